/*
 * seed — the idempotent demo data of SPEC §5 (tenant "Bella Vita Spa &
 * Wellness" and everything under it).
 *
 * Invariants:
 *  - Each entity is matched by its natural key (tenant by email, branch by
 *    tenant + name, user by email, service by tenant + name, assignment by
 *    service + user, client by tenant + phone) and created only when missing.
 *    An existing row is never updated or deleted: a demo user whose password
 *    was changed keeps it; a renamed service is not found under its demo
 *    name, so the demo service is created again beside it.
 *  - Working hours are created only when the branch has none at all.
 *  - The six demo appointments and their three payments are created once per
 *    tenant, remembered in the settings key
 *    'seed.demo_appointments.tenant.<tenant id>': deleting them does not bring
 *    them back.
 *  - Everything runs in one transaction; an error leaves the database as it
 *    was.  Two seeds at once are serialized (PostgreSQL: a transaction-level
 *    advisory lock; SQLite: the write transaction itself).
 *
 * The library never prints: the report lists what was done, for the caller
 * (the `seed` command, the boot sequence) to show.
 */
#ifndef CITAPLANNER_SEED_H
#define CITAPLANNER_SEED_H

#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

enum seed_result { SEED_CREATED, SEED_PRESENT };

/* One entity the seed looked at. */
struct seed_item {
    char *entity; /* "tenant", "branch", "user", "service", "assignment", "client",
                     "working_hours", "appointment", "payment", "demo_appointments" */
    char *key;    /* its natural key as shown: name, email, phone, ... */
    enum seed_result result;
    char *line; /* "tenant 'Bella Vita Spa & Wellness': created" / "...: already present" */
};

struct seed_report {
    struct seed_item *items; /* in the order the seed reached them */
    int count;
    int created, present;
};

/*
 * Seed db (migrations must be current; the caller checks).  now_epoch is
 * "now" (time(NULL) outside tests): the demo appointments are placed on the
 * days around it in the tenant's time zone (the branch's when it has one):
 *
 *   today     one CONFIRMED and one PENDING
 *   tomorrow  one CONFIRMED
 *   1, 2 and 3 days ago  one COMPLETED each, with a PAID payment each
 *             (CASH, CREDIT_CARD, TRANSFER) recorded by the receptionist,
 *             for the appointment's price, paid at its end
 *
 * each inside the branch's default working hours (rows with user_id NULL),
 * with a professional who offers the service (service_professionals), at the
 * service's price and duration, never overlapping an appointment that blocks
 * the professional.  A day on which the branch is closed (Sunday) moves to
 * the nearest open day in the same direction: forward for today and
 * tomorrow, backward for the past days; so a past day may hold two of them.
 *
 * r is filled (release with seed_report_release, also after a failure); on
 * failure the transaction is rolled back and r lists what would have been
 * done up to the error.  Errors: those of db.h; -ERR_CONFIG when the
 * tenant's time zone is unknown; -ERR_DB when a demo user belongs to another
 * tenant, or when the appointments find no open day or no free time.
 */
int seed_run(struct db *db, int64_t now_epoch, struct seed_report *r, struct err *e);

/* Free what r holds and zero it.  Accepts a zeroed r. */
void seed_report_release(struct seed_report *r);

/*
 * The demo accounts (of the five) that exist and still verify against their
 * published password, for `doctor` and the warning `serve` logs at start.
 * Costs one bcrypt verification per existing demo account (about 50 ms
 * each).  *emails is an array of *count strings, NULL when none; the caller
 * frees it with db_strv_free(*emails, *count).
 */
int seed_demo_passwords_in_use(struct db *db, char ***emails, int *count, struct err *e);

#endif

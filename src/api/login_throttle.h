/*
 * login_throttle — failed logins, counted in the database (table
 * login_throttle) so that a restart or a second instance does not reset
 * them, per client address, per account, and per account from one address.
 *
 * The rules (the design of the usual back-off limiters):
 *  - an address that failed LT_ADDR_MAX times in LT_WINDOW_S is refused
 *    (429) until its window ends, whatever account it tries;
 *  - an account from one address gets an exponential back-off after
 *    LT_PAIR_FREE failures: 1 s, 2 s, 4 s … up to LT_MAX_DELAY_S;
 *  - an account that failed LT_ACCT_FREE times (from anywhere) gets the same
 *    back-off for wrong passwords only: a correct password from an address
 *    that has not failed on it still logs in, so that an attack on an
 *    account does not lock its owner out.
 * Addresses come from api_client_addr() (TRUSTED_PROXIES).
 */
#ifndef CITAPLANNER_API_LOGIN_THROTTLE_H
#define CITAPLANNER_API_LOGIN_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "db/db.h"

#define LT_WINDOW_S    900
#define LT_ADDR_MAX    50
#define LT_PAIR_FREE   5
#define LT_ACCT_FREE   10
#define LT_MAX_DELAY_S 900

struct login_throttle {
    char addr_key[65], acct_key[65], pair_key[65]; /* SHA-256 hex */
    int addr_wait;                                 /* seconds the address must wait, 0 = may try */
    int pair_wait; /* seconds this account from this address must wait */
    int acct_wait; /* seconds the account's back-off has left (wrong passwords only) */
    int pair_failures;
};

/* Read the counters of (account, address) into t. */
int login_throttle_load(struct db *db, const char *account, const char *addr, int64_t now,
                        struct login_throttle *t, struct err *e);

/* A failed attempt: count it on the three keys; *wait gets the longest back-off now due
 * (of the pair or the account; 0 when none). */
int login_throttle_fail(struct db *db, const struct login_throttle *t, int64_t now, int *wait,
                        struct err *e);

/* A successful login: forget the account's and the pair's failures. */
int login_throttle_success(struct db *db, const struct login_throttle *t, int64_t now,
                           struct err *e);

/* The back-off after n failures when the first free ones are free (0 while n <= free). */
int login_throttle_delay(int n, int free);

/* Counters for /metrics: failed logins, and attempts refused with 429. */
void login_throttle_count(bool refused);
int64_t login_throttle_failed_total(void);
int64_t login_throttle_refused_total(void);

#endif

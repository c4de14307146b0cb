/*
 * csv — tables as RFC 4180 text for spreadsheets (issue 19's exports):
 * CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF
 * (quotes doubled), and a UTF-8 byte-order mark first so that Excel reads
 * the accents right.  A field that starts with = + - or @ is prefixed with
 * a quote character (') so that no spreadsheet runs it as a formula;
 * numbers are written with csv_int and are never prefixed.
 */
#ifndef CITAPLANNER_DOMAIN_CSV_H
#define CITAPLANNER_DOMAIN_CSV_H

#include <stdint.h>

#include "common/util.h"

/* The UTF-8 byte-order mark, first in every export. */
void csv_bom(struct buf *b);
/* One text field (NULL: empty), after a comma unless first. */
void csv_text(struct buf *b, const char *s, int first);
/* One integer field. */
void csv_int(struct buf *b, int64_t v, int first);
/* Cents as a decimal amount "1234.50" (minus sign kept). */
void csv_cents(struct buf *b, int64_t cents, int first);
/* End the record: CRLF. */
void csv_end(struct buf *b);

#endif

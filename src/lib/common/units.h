/* Human-sized numbers on the command line, read the way runc's Go code
 * reads them: byte sizes as docker's units.RAMInBytes ("64m", "1.5g",
 * "512KiB"), durations as Go's time.ParseDuration ("500ms", "1m30s").
 * The one grammar of each for every program here: runf, runfctl and
 * runfd (a function's limits, timeouts and runfd's options). */
#ifndef RF_UNITS_H
#define RF_UNITS_H

#include <stdint.h>

/* A size in bytes: a decimal number, an optional space, an optional unit
   k, m, g, t, p (any case, powers of 1024) optionally followed by "i" and
   "b".  0 on success, -1 (errno EINVAL or ERANGE) otherwise. */
int rf_parse_ram_bytes (const char *s, int64_t *out);

/* A duration in nanoseconds: "0", or an optionally signed sequence of
   decimal numbers each with a unit (ns, us, µs, ms, s, m, h).  0 on
   success, -1 (errno EINVAL or ERANGE) otherwise. */
int rf_parse_duration_ns (const char *s, int64_t *out);

/* The same grammar, where a bare decimal number also stands for seconds
   ("2.5" is "2.5s"): for the options and fields that have always taken
   seconds (runfd's --request-timeout, a function's timeout).  0 on
   success, -1 (errno EINVAL or ERANGE) otherwise. */
int rf_parse_seconds_ns (const char *s, int64_t *out);

#endif

/* lt_fault — crash points for fault-injection tests.
 *
 * LT_CRASH_POINT=name:N makes the process kill itself with SIGKILL the N-th
 * time it passes the point `name` (e.g. "sink.before_commit:3"). Unset, a
 * point costs one branch. Tests use it to crash at exact places instead of
 * racing a kill against timing. */
#ifndef LT_FAULT_H
#define LT_FAULT_H

/* Die here if LT_CRASH_POINT names this point and its count is reached. */
void lt_fault_point(const char *name);

#endif

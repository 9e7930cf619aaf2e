/* lt_control_msg — the province's messages on a commune's control topic
 * (lt.<PP>.<CCCCC>.control): a resync request, or a digest confirmation. */
#ifndef LT_CONTROL_MSG_H
#define LT_CONTROL_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "lienthong/v1/lienthong.pb-c.h"

/* The serialized ControlMessage for commune: exactly one of resync (not
 * NULL) or confirmed_seq (> 0). request_id names it (at most 79 bytes).
 * malloc'd; *len its size. */
uint8_t *lt_control_msg_pack(const char *commune, const char *request_id,
                             Lienthong__V1__ResyncRequest *resync, uint64_t confirmed_seq,
                             size_t *len);

#endif

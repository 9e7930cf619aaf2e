/* gen_dossier — administrative dossiers as Lienthong__V1__Dossier messages.
 *
 * Dossiers go along the National Public Service Portal's status paths (most
 * NEW -> ACCEPTED -> IN_PROCESS -> PROCESSED -> RESULT_RETURNED; some ask for
 * documents or fees, some are not accepted, withdrawn or stopped), each step
 * a change lt_rule_dossier_transition allows. Submitted online a dossier
 * starts at NEW, any time 07:00-24:00; received at the desk (in person, by
 * post) it starts at ACCEPTED in office hours. The time limit of its procedure
 * runs in working days from acceptance and moves while the applicant is asked
 * for something. Each version of a dossier is the same story one step
 * further, never later than the moment the dossier was created. */
#ifndef GEN_DOSSIER_H
#define GEN_DOSSIER_H

#include <stddef.h>
#include <stdint.h>

#include "gen_arena.h"
#include "gen_entity.h"
#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_rules.h"

#define GEN_MAX_STEPS 8

/* How many statuses the life of dossier e has (its versions). */
int gen_dossier_steps(const gen_entity_t *e);

/* The Dossier of e at its current step (e->step) from desk, in arena; *at
 * gets when that step happened (Event.occurred_at). */
Lienthong__V1__Dossier *gen_dossier(gen_arena_t *arena, const gen_desk_t *desk,
                                    const gen_entity_t *e, int64_t *at);

/* The status paths dossiers take, as submitted online (from NEW): path i of
 * gen_dossier_path_count() into out; returns its length. */
size_t gen_dossier_path_count(void);
size_t gen_dossier_path(size_t i, lt_dossier_status_t out[GEN_MAX_STEPS]);

/* Every path, online and (where it passes ACCEPTED) at the desk, is a status
 * history lt_rule_dossier_history accepts, and every status has its
 * DossierStatus value. 0, or -1 with the path and the rule's sentence. */
int gen_dossier_check_paths(char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif

#include "lt_committer.h"

#include <pthread.h>
#include <stdlib.h>

#include "lt_store.h"
#include "lt_util.h"

struct lt_committer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    /* guarded by lock */
    PGconn *pg;
    const struct lt_plan *plan; /* the round to commit; NULL when none is waiting */
    int in_flight;              /* started, not waited for */
    int done;                   /* the thread finished the round in flight */
    int closing;
    lt_pg_rc_t rc;
    char errstr[1024];
};

static void *lt_committer_main(void *arg)
{
    lt_committer_t *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->plan && !c->closing)
            pthread_cond_wait(&c->changed, &c->lock);
        if (!c->plan)
            break; /* closing, nothing waiting */
        const struct lt_plan *plan = c->plan;
        PGconn *pg = c->pg;
        pthread_mutex_unlock(&c->lock);
        char errstr[sizeof(c->errstr)];
        errstr[0] = '\0';
        lt_pg_rc_t rc = lt_store_commit(pg, plan, errstr, sizeof(errstr));
        pthread_mutex_lock(&c->lock);
        c->rc = rc;
        lt_strlcpy(c->errstr, errstr, sizeof(c->errstr));
        c->plan = NULL;
        c->done = 1;
        pthread_cond_broadcast(&c->changed);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

lt_committer_t *lt_committer_new(void)
{
    lt_committer_t *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    if (pthread_create(&c->thread, NULL, lt_committer_main, c) != 0) {
        pthread_cond_destroy(&c->changed);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    return c;
}

void lt_committer_destroy(lt_committer_t *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->closing = 1;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void lt_committer_start(lt_committer_t *c, PGconn *pg, const struct lt_plan *plan)
{
    pthread_mutex_lock(&c->lock);
    if (c->in_flight)
        abort(); /* one round at a time: the caller waits first */
    c->pg = pg;
    c->plan = plan;
    c->in_flight = 1;
    c->done = 0;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

int lt_committer_finished(lt_committer_t *c)
{
    pthread_mutex_lock(&c->lock);
    int finished = !c->in_flight || c->done;
    pthread_mutex_unlock(&c->lock);
    return finished;
}

lt_pg_rc_t lt_committer_wait(lt_committer_t *c, char *errstr, size_t errstr_size)
{
    pthread_mutex_lock(&c->lock);
    while (c->in_flight && !c->done)
        pthread_cond_wait(&c->changed, &c->lock);
    lt_pg_rc_t rc = c->in_flight ? c->rc : LT_PG_OK;
    if (c->in_flight && rc != LT_PG_OK)
        lt_strlcpy(errstr, c->errstr, errstr_size);
    c->in_flight = 0;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

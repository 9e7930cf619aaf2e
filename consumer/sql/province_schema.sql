-- Province schema, created by `lienthong-sink migrate`. Idempotent.
--
-- The sink writes the applied rows, the Kafka offsets and each commune's last
-- applied sequence in ONE transaction per poll round: after any crash the
-- database says exactly where to resume, and Kafka's own offsets are only a
-- copy for lag tools.
CREATE SCHEMA IF NOT EXISTS lt;

-- Communes registered by `lienthong-sink provision`.
CREATE TABLE IF NOT EXISTS lt.commune (
    commune_code  text PRIMARY KEY,
    province_code text NOT NULL,
    name          text NOT NULL,
    events_topic  text NOT NULL UNIQUE,
    control_topic text NOT NULL UNIQUE,
    key_id        text,         -- Ed25519 key id; NULL = integrity hash accepted
    public_key    text,         -- PEM
    registered_at timestamptz NOT NULL DEFAULT now()
);

-- Where to resume reading: the next offset to apply per topic partition.
CREATE TABLE IF NOT EXISTS lt.kafka_offset (
    topic       text   NOT NULL,
    partition   int    NOT NULL,
    next_offset bigint NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);

-- Per commune: the last applied sequence (duplicates at or below it are skipped).
CREATE TABLE IF NOT EXISTS lt.commune_progress (
    commune_code    text PRIMARY KEY,
    last_seq        bigint NOT NULL,
    last_batch_hash bytea,
    events_applied  bigint NOT NULL DEFAULT 0,
    batches_applied bigint NOT NULL DEFAULT 0,
    duplicates_skipped bigint NOT NULL DEFAULT 0,
    last_recorded_at timestamptz,  -- outbox time of the newest applied event
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A jump in a commune's sequence: events from_seq..to_seq never arrived.
CREATE TABLE IF NOT EXISTS lt.seq_gap (
    commune_code text   NOT NULL,
    from_seq     bigint NOT NULL,
    to_seq       bigint NOT NULL,
    detected_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    PRIMARY KEY (commune_code, from_seq)
);

-- Current state: one row per entity, newest version wins, deletes are tombstones.
CREATE TABLE IF NOT EXISTS lt.entity (
    commune_code text    NOT NULL,
    entity_type  text    NOT NULL,
    entity_id    text    NOT NULL,
    version      bigint  NOT NULL,
    deleted      boolean NOT NULL,
    content_hash bytea,
    payload      jsonb,           -- proto3 JSON of the payload; NULL for tombstones
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    seq          bigint  NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, entity_type, entity_id)
);

-- Every applied event once: the primary key makes a second application fail loudly.
CREATE TABLE IF NOT EXISTS lt.event_log (
    commune_code text   NOT NULL,
    seq          bigint NOT NULL,
    entity_type  text   NOT NULL,
    entity_id    text   NOT NULL,
    version      bigint NOT NULL,
    op           text   NOT NULL,
    content_hash bytea,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (commune_code, seq)
);

-- The signed batch chain, for audit.
CREATE TABLE IF NOT EXISTS lt.batch_log (
    commune_code    text   NOT NULL,
    first_seq       bigint NOT NULL,
    last_seq        bigint NOT NULL,
    batch_hash      bytea  NOT NULL,
    prev_batch_hash bytea,
    key_id          text   NOT NULL,
    signature       bytea  NOT NULL,
    topic           text   NOT NULL,
    kafka_offset    bigint NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, kafka_offset)
);
CREATE INDEX IF NOT EXISTS batch_log_commune ON lt.batch_log (commune_code, first_seq);

-- Messages that could not be applied, with the raw bytes to replay after a fix.
CREATE TABLE IF NOT EXISTS lt.quarantine (
    id            bigserial PRIMARY KEY,
    topic         text   NOT NULL,
    partition     int    NOT NULL,
    kafka_offset  bigint NOT NULL,
    commune_code  text,
    reason_code   text   NOT NULL,
    reason        text   NOT NULL,
    message_key   bytea,
    raw           bytea  NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    replayed_at   timestamptz,
    UNIQUE (topic, partition, kafka_offset)
);

-- The OLAP tables, one dialect for chdb (embedded) and a ClickHouse server.
-- {database} is replaced by Olap.database. Statements are separated by ';'.
-- Retention runs on the write time (written_at / logged_at), not on the business Date,
-- so backfilled history is kept for its term after it is written, not dropped at once.
CREATE DATABASE IF NOT EXISTS {database};

CREATE TABLE IF NOT EXISTS {database}.training_metrics (
    run_id String,
    fold Int32,
    step Int64,
    name String,
    value Nullable(Float64),
    logged_at DateTime64(3, 'UTC')
) ENGINE = MergeTree
PARTITION BY toYYYYMM(logged_at)
ORDER BY (run_id, name, fold, step)
TTL toDateTime(logged_at) + INTERVAL 6 MONTH DELETE
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS {database}.predictions (
    Code String,
    Date Date,
    for_session Nullable(Date),
    horizon Int32,
    prediction Nullable(Float64),
    quantile_levels Array(Float64),
    quantiles Array(Float64),
    ensemble_score Nullable(Float64),
    confidence Nullable(Float64),
    rank Nullable(Int32),
    model_version String,
    run_id Nullable(String),
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree
PARTITION BY toYYYYMM(Date)
ORDER BY (model_version, Date, horizon, Code)
TTL written_at + INTERVAL 1 YEAR DELETE
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS {database}.realized (
    Date Date,
    horizon Int32,
    model_version String,
    rank_ic Nullable(Float64),
    hit_rate Nullable(Float64),
    decile_spread Nullable(Float64),
    n_stocks Nullable(Int32),
    matured_on Nullable(Date),
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree
PARTITION BY toYYYYMM(Date)
ORDER BY (model_version, Date, horizon)
TTL written_at + INTERVAL 1 YEAR DELETE
SETTINGS ttl_only_drop_parts = 1;

CREATE TABLE IF NOT EXISTS {database}.quality (
    Date Date,
    run_id String,
    gate String,
    status Nullable(String),
    success_ratio Nullable(Float64),
    rows_in Nullable(Int64),
    rows_quarantined Nullable(Int64),
    detail Nullable(String),
    written_at DateTime DEFAULT now()
) ENGINE = MergeTree
PARTITION BY toYYYYMM(Date)
ORDER BY (Date, run_id, gate)
SETTINGS ttl_only_drop_parts = 1;

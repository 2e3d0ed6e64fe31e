-- Helpers shared by the benchmarks.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;

CREATE TABLE bench_results (
    id serial PRIMARY KEY,
    benchmark text NOT NULL,
    deg_figure text NOT NULL,
    baseline_figure text NOT NULL,
    ratio text NOT NULL,
    goal text NOT NULL,
    met boolean NOT NULL
);

-- median wall time in ms of `reps` runs of q; `setup` runs untimed before each
CREATE FUNCTION bench_ms(q text, reps int DEFAULT 5, setup text DEFAULT NULL)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    times float8[] := '{}';
BEGIN
    FOR i IN 1..reps LOOP
        IF setup IS NOT NULL THEN EXECUTE setup; END IF;
        t0 := clock_timestamp();
        EXECUTE q;
        times := times || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    END LOOP;
    RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(times) x);
END $$;

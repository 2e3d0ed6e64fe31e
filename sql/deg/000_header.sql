-- deg: the Digital Energy Grid inside PostgreSQL.
-- This script is assembled by the Makefile from sql/deg/*.sql, in name order.

\echo Use "CREATE EXTENSION deg" to load this file. \quit

COMMENT ON SCHEMA deg IS 'Digital Energy Grid: energy resource addresses, credentials, offers, contracts, markets and settlement';

-- Roles of DESIGN.md section 10. NOLOGIN group roles; created once per cluster.
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'deg_reader') THEN
        CREATE ROLE deg_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'deg_operator') THEN
        CREATE ROLE deg_operator NOLOGIN IN ROLE deg_reader;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'deg_admin') THEN
        CREATE ROLE deg_admin NOLOGIN IN ROLE deg_operator;
    END IF;
END
$roles$;

GRANT USAGE ON SCHEMA deg TO PUBLIC;

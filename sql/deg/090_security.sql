-- Row-level security (DESIGN.md section 10): a participant's database role sees only the
-- contracts it fills, their claims and events, and the ledger lines it pays or receives.
-- Analysts (deg_reader without a participant mapping) and operators see everything; the
-- extension's own SECURITY DEFINER functions and triggers run as its owner and are not limited.

DO $roles$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'deg_participant') THEN
        CREATE ROLE deg_participant NOLOGIN;
    END IF;
END
$roles$;

CREATE TABLE deg.participant_roles (
    db_role     name NOT NULL,
    participant deg.era NOT NULL,
    PRIMARY KEY (db_role, participant)
);
COMMENT ON TABLE deg.participant_roles IS 'which participants (ERAs) a database role acts for: such a role sees only their contracts, claims, events and ledger lines';
SELECT pg_catalog.pg_extension_config_dump('deg.participant_roles', '');

-- the participants the current database role acts for; NULL when it acts for none (sees all it may read)
CREATE FUNCTION deg.my_participants() RETURNS deg.era[]
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT array_agg(p.participant) FROM deg.participant_roles p WHERE p.db_role = current_user
$$;
COMMENT ON FUNCTION deg.my_participants() IS 'the ERAs the current role acts for (deg.participant_roles), NULL when it is not a participant''s role';

-- a role reads its own mapping only (analysts and admins read all of it)
ALTER TABLE deg.participant_roles ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON deg.participant_roles FOR SELECT TO PUBLIC USING (db_role = current_user);
CREATE POLICY admins ON deg.participant_roles FOR ALL TO deg_admin USING (true) WITH CHECK (true);

ALTER TABLE deg.contracts ENABLE ROW LEVEL SECURITY;
ALTER TABLE deg.role_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE deg.contract_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE deg.ledger ENABLE ROW LEVEL SECURITY;
ALTER TABLE deg.quality_results ENABLE ROW LEVEL SECURITY;

-- operators work on everything
CREATE POLICY operators ON deg.contracts FOR ALL TO deg_operator USING (true) WITH CHECK (true);
CREATE POLICY operators ON deg.role_claims FOR ALL TO deg_operator USING (true) WITH CHECK (true);
CREATE POLICY operators ON deg.contract_events FOR ALL TO deg_operator USING (true) WITH CHECK (true);
CREATE POLICY operators ON deg.ledger FOR ALL TO deg_operator USING (true) WITH CHECK (true);
CREATE POLICY operators ON deg.quality_results FOR ALL TO deg_operator USING (true) WITH CHECK (true);

-- readers see what their participants take part in (all of it, when they act for no participant).
-- Claims, events and quality results follow their contract: the subquery reads deg.contracts as
-- the one who queries, so the contracts policy decides, and nobody can ask about a contract (or
-- about an ERA's part in one) that they cannot see.
CREATE POLICY readers ON deg.contracts FOR SELECT TO deg_reader, deg_participant
    USING ((SELECT deg.my_participants()) IS NULL
           OR EXISTS (SELECT 1 FROM deg.contract_participants(body) p WHERE p.participant = ANY (coalesce((SELECT deg.my_participants()), '{}'))));
CREATE POLICY readers ON deg.role_claims FOR SELECT TO deg_reader, deg_participant
    USING (EXISTS (SELECT 1 FROM deg.contracts c WHERE c.contract_id = role_claims.contract_id));
CREATE POLICY readers ON deg.contract_events FOR SELECT TO deg_reader, deg_participant
    USING (EXISTS (SELECT 1 FROM deg.contracts c WHERE c.contract_id = contract_events.contract_id));
CREATE POLICY readers ON deg.ledger FOR SELECT TO deg_reader, deg_participant
    USING ((SELECT deg.my_participants()) IS NULL
           OR payer = ANY (coalesce((SELECT deg.my_participants()), '{}')) OR payee = ANY (coalesce((SELECT deg.my_participants()), '{}')));
CREATE POLICY readers ON deg.quality_results FOR SELECT TO deg_reader, deg_participant
    USING (EXISTS (SELECT 1 FROM deg.contracts c WHERE c.contract_id = quality_results.contract_id));

-- the analyst views read the tables as the one who queries them, so the policies apply
ALTER VIEW deg.net_positions SET (security_invoker = true);
ALTER VIEW deg.contract_ledger SET (security_invoker = true);
ALTER VIEW deg.energy_contracted_vs_delivered SET (security_invoker = true);
ALTER VIEW deg.quality_report SET (security_invoker = true);
ALTER VIEW deg.settlement_run_totals SET (security_invoker = true);

GRANT SELECT ON deg.contracts, deg.role_claims, deg.contract_events, deg.ledger, deg.quality_results,
                deg.net_positions, deg.contract_ledger, deg.energy_contracted_vs_delivered, deg.quality_report,
                deg.settlement_runs
    TO deg_participant;
GRANT SELECT ON deg.contracts, deg.role_claims, deg.contract_events, deg.participant_roles TO deg_reader;
GRANT SELECT ON deg.participant_roles TO deg_participant;
GRANT INSERT, UPDATE, DELETE ON deg.participant_roles TO deg_admin;

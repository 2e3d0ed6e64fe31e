-- Stage 2: trust. The certification authority certifies green energy and
-- EVSE safety; the utility approves grid interconnections. A few credentials
-- expire or are revoked, a few come from an issuer the city does not trust,
-- and a few households never applied.
CALL demo.stage('2. trust');

INSERT INTO deg.issuers (issuer, public_key, trusted, credential_types, name) VALUES
    ('did:web:trust.suryapur.example', deg.public_key(demo.secret_key('ca')), true,
     '{GreenEnergyCertificate,EVSESafetyCertification}', 'Suryapur Energy Trust'),
    ('did:web:discom.suryapur.example', deg.public_key(demo.secret_key('discom')), true,
     '{GridInterconnectionApproval}', 'Suryapur Power Distribution'),
    ('did:web:rooftop-installers.example', deg.public_key(demo.secret_key('installers')), false,
     '{GreenEnergyCertificate}', 'Rooftop Installers Association');
SELECT deg.status_list_create('https://trust.suryapur.example/status/1', 'did:web:trust.suryapur.example') \g /dev/null
SELECT deg.status_list_create('https://discom.suryapur.example/status/1', 'did:web:discom.suryapur.example') \g /dev/null

-- who gets what (deterministic from the seed)
CREATE TABLE demo.credential_plan AS
-- green energy certificates: every solar home; 3 % from the untrusted
-- installers' association, 2 % expired
SELECT h.era AS subject, 'GreenEnergyCertificate' AS type,
       CASE WHEN demo.u('green-issuer', h.h) < 0.03 THEN 'installers' ELSE 'ca' END AS issuer,
       CASE WHEN demo.u('green-expired', h.h) < 0.02 THEN 'expired' ELSE 'valid' END AS fate,
       jsonb_build_object('energySource', 'solar', 'capacityKW', h.pv_kw,
                          'assetId', h.era::text || '/rooftop-pv') AS claims,
       h.h AS n
  FROM demo.households h WHERE h.solar
UNION ALL
-- grid interconnection approvals: every home with solar or a battery, but 1 %
-- never applied; 2 % revoked (failed inspection), 1.5 % expired
SELECT h.era, 'GridInterconnectionApproval', 'discom',
       CASE WHEN x < 0.02 THEN 'revoked' WHEN x < 0.035 THEN 'expired' ELSE 'valid' END,
       jsonb_build_object('feeder', (SELECT f.era FROM demo.feeders f WHERE f.f = h.feeder),
                          'maxExportKW', coalesce(h.pv_kw, 0) + CASE WHEN h.battery THEN 3 ELSE 0 END,
                          'meterId', h.meter),
       h.h
  FROM demo.households h, LATERAL (SELECT demo.u('approval', h.h) AS x) u
 WHERE (h.solar OR h.battery) AND demo.u('applied', h.h) >= 0.01
UNION ALL
-- EVSE safety certificates: every EVSE; about 1 in 20 expired, 1 in 60 revoked
SELECT e.era, 'EVSESafetyCertification', 'ca',
       CASE WHEN e.site = 2 AND e.u = 4 THEN 'revoked' WHEN e.u = 3 AND e.site % 3 = 0 AND e.cpo <> 'ECO' THEN 'expired'
            ELSE 'valid' END,
       jsonb_build_object('standard', 'IEC 61851-1', 'maxPowerKW', e.power_kw, 'inspection', 'annual'),
       row_number() OVER (ORDER BY e.era)
  FROM demo.evses e;

-- issue them: valid for three years from an issue date in the last two
-- years, or expired some weeks ago
INSERT INTO deg.credentials (credential)
SELECT deg.credential_issue(
           'did:web:' || CASE p.issuer WHEN 'ca' THEN 'trust.suryapur.example' WHEN 'discom' THEN 'discom.suryapur.example'
                                       ELSE 'rooftop-installers.example' END,
           demo.secret_key(p.issuer), p.subject, ARRAY[p.type], p.claims,
           date_trunc('day', now()) - CASE WHEN p.fate = 'expired' THEN interval '400 days'
                                           ELSE (30 + floor(demo.u('issued', p.n) * 700)) * interval '1 day' END,
           date_trunc('day', now()) + CASE WHEN p.fate = 'expired' THEN -(10 + floor(demo.u('expiry', p.n) * 90)) * interval '1 day'
                                           ELSE interval '3 years' - (30 + floor(demo.u('issued', p.n) * 700)) * interval '1 day' END,
           CASE p.issuer WHEN 'ca' THEN 'https://trust.suryapur.example/status/1'
                         WHEN 'discom' THEN 'https://discom.suryapur.example/status/1' END)
  FROM demo.credential_plan p
 ORDER BY p.type, p.subject;

SELECT count(*) FILTER (WHERE deg.credential_revoke(c.credential))
  FROM deg.credentials c JOIN demo.credential_plan p ON p.subject = c.subject AND c.types = ARRAY[p.type]
 WHERE p.fate = 'revoked' \g /dev/null

-- what the city's verifier says about every credential it holds
CREATE TABLE demo.credential_status AS
SELECT c.credential_id, c.subject, c.types[1] AS type, c.issuer, k.valid, k.reason
  FROM deg.credentials c CROSS JOIN LATERAL deg.credential_check(c.credential) k;

SELECT format('   %s credentials issued (%s), %s of them not valid now',
              count(*), string_agg(DISTINCT type, ', '), count(*) FILTER (WHERE NOT valid))
  FROM demo.credential_status;

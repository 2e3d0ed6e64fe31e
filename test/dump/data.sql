-- data for the dump and restore test: resources, a credential, contracts with claims, telemetry,
-- a market clearing, two settlement runs (the second with an adjustment)
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION deg;
INSERT INTO deg.resources (era, kind) VALUES ('utility.example.com', 'service_provider'), ('home-1.example.com', 'prosumer');
CREATE TABLE issuer_key AS SELECT * FROM deg.keypair();
INSERT INTO deg.issuers (issuer, public_key) SELECT 'did:deg:grid-authority', public_key FROM issuer_key;
INSERT INTO deg.credentials (credential)
SELECT deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM issuer_key), 'home-1.example.com',
                            '{CustomerCredential}', '{}', now() - interval '1 day');
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('tou-1', '{
  "contractId": "tou-1", "status": "PENDING", "createdAt": "2024-01-01T00:00:00Z",
  "inputParameters": {"currency": "INR", "settlementInterval": "PT1H"},
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "utility.example.com"},
            {"role": "BUYER", "filled": false, "filledBy": null}],
  "inputSignals": [{"signalId": "price", "signalType": "PRICE", "source": {"era": "utility.example.com"}}],
  "telemetrySources": [{"sourceId": "meter", "sourceType": "METER_READING", "source": {"era": "meter-1.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "inputSignals.price × telemetrySources.meter.importedKWh"}]}
}', 'PENDING');
INSERT INTO deg.role_claims (contract_id, role, participant) VALUES ('tou-1', 'BUYER', 'home-1.example.com');
INSERT INTO deg.signal_values (signal_id, valid, value) VALUES ('price', '[2023-12-31,)', 0.25);
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT 'meter-1.example.com', tstzrange(t, t + interval '1 hour'), 1.5 FROM generate_series('2024-01-01 00:00+00'::timestamptz, '2024-01-01 22:00+00', '1 hour') t;
SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)') IS NOT NULL AS settled;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh) VALUES ('meter-1.example.com', '[2024-01-01 23:00+00, 2024-01-02 00:00+00)', 2);
SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)') IS NOT NULL AS adjusted;

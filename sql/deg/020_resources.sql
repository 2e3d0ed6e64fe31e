-- The resource registry: every energy resource with its ERA (DESIGN.md section 8).

CREATE TYPE deg.resource_kind AS ENUM (
    'generation',        -- PV arrays, wind turbines, generators
    'storage',           -- batteries, EVs
    'consumption',       -- loads: heat pumps, appliances, buildings
    'infrastructure',    -- meters, EVSEs, transformers, grid connections
    'service_provider',  -- utilities, CPOs, aggregators, market clearing agents, grid operators
    'prosumer'           -- a household or site that both consumes and produces
);
COMMENT ON TYPE deg.resource_kind IS 'the DEG energy resource kinds';

CREATE TABLE deg.resources (
    era                 deg.era PRIMARY KEY,
    kind                deg.resource_kind NOT NULL,
    owner_era           deg.era,
    descriptor          jsonb NOT NULL DEFAULT '{}',
    capacity_kw         numeric,
    energy_capacity_kwh numeric,
    latitude            double precision,
    longitude           double precision,
    created_at          timestamptz NOT NULL DEFAULT now(),
    -- the parent a local ERA lives under; it must be registered first
    parent_era          deg.era GENERATED ALWAYS AS (
                            CASE WHEN deg.era_scope(era) = 'local' THEN deg.era_parent(era) END
                        ) STORED,
    CONSTRAINT resources_local_era_needs_a_global_root
        CHECK (deg.era_global(era) IS NOT NULL),
    CONSTRAINT resources_parent_must_be_registered
        FOREIGN KEY (parent_era) REFERENCES deg.resources (era) DEFERRABLE,
    CONSTRAINT resources_owner_must_be_registered
        FOREIGN KEY (owner_era) REFERENCES deg.resources (era) DEFERRABLE,
    CONSTRAINT resources_capacity_kw_not_negative
        CHECK (capacity_kw >= 0),
    CONSTRAINT resources_energy_capacity_kwh_not_negative
        CHECK (energy_capacity_kwh >= 0),
    CONSTRAINT resources_latitude_in_range
        CHECK (latitude BETWEEN -90 AND 90),
    CONSTRAINT resources_longitude_in_range
        CHECK (longitude BETWEEN -180 AND 180),
    CONSTRAINT resources_location_needs_both_coordinates
        CHECK ((latitude IS NULL) = (longitude IS NULL)),
    CONSTRAINT resources_descriptor_is_an_object
        CHECK (jsonb_typeof(descriptor) = 'object')
);
CREATE INDEX resources_owner_era_idx ON deg.resources (owner_era);
CREATE INDEX resources_parent_era_idx ON deg.resources (parent_era);

COMMENT ON TABLE deg.resources IS 'registered energy resources, keyed by ERA; a local ERA needs its parent registered';
COMMENT ON COLUMN deg.resources.era IS 'the resource''s Energy Resource Address';
COMMENT ON COLUMN deg.resources.kind IS 'generation, storage, consumption, infrastructure, service_provider or prosumer';
COMMENT ON COLUMN deg.resources.owner_era IS 'the registered resource that owns or operates this one';
COMMENT ON COLUMN deg.resources.descriptor IS 'free attributes: name, type, model, grid connection point, operating constraints';
COMMENT ON COLUMN deg.resources.capacity_kw IS 'rated power in kW';
COMMENT ON COLUMN deg.resources.energy_capacity_kwh IS 'usable energy in kWh (storage)';
COMMENT ON COLUMN deg.resources.latitude IS 'WGS84 latitude in degrees';
COMMENT ON COLUMN deg.resources.longitude IS 'WGS84 longitude in degrees';
COMMENT ON COLUMN deg.resources.parent_era IS 'for a local ERA, the address one level up (generated)';

SELECT pg_catalog.pg_extension_config_dump('deg.resources', '');

GRANT SELECT ON deg.resources TO deg_reader;
GRANT INSERT, UPDATE, DELETE ON deg.resources TO deg_operator;

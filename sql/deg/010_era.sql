-- The era type: Energy Resource Addresses (src/era.c, src/core/era.c).

CREATE TYPE deg.era;

CREATE FUNCTION deg.era_in(cstring) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_in' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_out(deg.era) RETURNS cstring
    AS 'MODULE_PATHNAME', 'era_out' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_recv(internal) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_recv' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_send(deg.era) RETURNS bytea
    AS 'MODULE_PATHNAME', 'era_send' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE deg.era (
    INPUT = deg.era_in,
    OUTPUT = deg.era_out,
    RECEIVE = deg.era_recv,
    SEND = deg.era_send,
    INTERNALLENGTH = VARIABLE,
    STORAGE = main,
    COLLATABLE = false
);
COMMENT ON TYPE deg.era IS 'Energy Resource Address: a domain, handle (name@domain), DID, EVSE id, or local name under one of them';

-- conversions
CREATE FUNCTION deg.era(text) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_from_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era(text) IS 'parse an energy resource address';
CREATE FUNCTION deg.era_text(deg.era) RETURNS text
    AS 'MODULE_PATHNAME', 'era_to_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_text(deg.era) IS 'the canonical text of an energy resource address';
CREATE FUNCTION deg.era(jsonb) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era(jsonb) IS 'an energy resource address from a JSON string';
CREATE FUNCTION deg.era_jsonb(deg.era) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'era_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_jsonb(deg.era) IS 'an energy resource address as a JSON string';

CREATE CAST (text AS deg.era) WITH FUNCTION deg.era(text) AS ASSIGNMENT;
CREATE CAST (deg.era AS text) WITH FUNCTION deg.era_text(deg.era) AS ASSIGNMENT;
CREATE CAST (jsonb AS deg.era) WITH FUNCTION deg.era(jsonb);
CREATE CAST (deg.era AS jsonb) WITH FUNCTION deg.era_jsonb(deg.era);

-- comparison
CREATE FUNCTION deg.era_cmp(deg.era, deg.era) RETURNS integer
    AS 'MODULE_PATHNAME', 'era_cmp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_eq(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_eq' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_ne(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_ne' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_lt(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_lt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_le(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_le' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_gt(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_gt' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_ge(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_ge' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_hash(deg.era) RETURNS integer
    AS 'MODULE_PATHNAME', 'era_hash' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_hash_extended(deg.era, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME', 'era_hash_extended' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_sortsupport(internal) RETURNS void
    AS 'MODULE_PATHNAME', 'era_sortsupport' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR deg.= (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_eq,
    COMMUTATOR = OPERATOR(deg.=), NEGATOR = OPERATOR(deg.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR deg.<> (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_ne,
    COMMUTATOR = OPERATOR(deg.<>), NEGATOR = OPERATOR(deg.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR deg.< (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_lt,
    COMMUTATOR = OPERATOR(deg.>), NEGATOR = OPERATOR(deg.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR deg.<= (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_le,
    COMMUTATOR = OPERATOR(deg.>=), NEGATOR = OPERATOR(deg.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR deg.> (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_gt,
    COMMUTATOR = OPERATOR(deg.<), NEGATOR = OPERATOR(deg.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR deg.>= (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_ge,
    COMMUTATOR = OPERATOR(deg.<=), NEGATOR = OPERATOR(deg.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);

-- btequalimage: equal ERAs have equal bytes, so btree may deduplicate
CREATE OPERATOR CLASS deg.era_ops
    DEFAULT FOR TYPE deg.era USING btree AS
        OPERATOR 1 deg.<,
        OPERATOR 2 deg.<=,
        OPERATOR 3 deg.=,
        OPERATOR 4 deg.>=,
        OPERATOR 5 deg.>,
        FUNCTION 1 deg.era_cmp(deg.era, deg.era),
        FUNCTION 2 deg.era_sortsupport(internal),
        FUNCTION 4 btequalimage(oid);

CREATE OPERATOR CLASS deg.era_hash_ops
    DEFAULT FOR TYPE deg.era USING hash AS
        OPERATOR 1 deg.=,
        FUNCTION 1 deg.era_hash(deg.era),
        FUNCTION 2 deg.era_hash_extended(deg.era, bigint);

-- containment, answered by the btree opclass through planner support
CREATE FUNCTION deg.era_contained_by_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'era_contained_by_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_contains_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'era_contains_support' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.era_containment_sel(internal, oid, internal, integer) RETURNS float8
    AS 'MODULE_PATHNAME', 'era_containment_sel' LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION deg.era_contained_by(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_contained_by' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT deg.era_contained_by_support;
COMMENT ON FUNCTION deg.era_contained_by(deg.era, deg.era) IS 'the first address lies inside the second (or is it)';
CREATE FUNCTION deg.era_contains(deg.era, deg.era) RETURNS boolean
    AS 'MODULE_PATHNAME', 'era_contains_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    SUPPORT deg.era_contains_support;
COMMENT ON FUNCTION deg.era_contains(deg.era, deg.era) IS 'the second address lies inside the first (or is it)';

CREATE OPERATOR deg.<@ (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_contained_by,
    COMMUTATOR = OPERATOR(deg.@>),
    RESTRICT = deg.era_containment_sel, JOIN = contjoinsel
);
COMMENT ON OPERATOR deg.<@ (deg.era, deg.era) IS 'lies inside: a local ERA in its global one, a sub-domain or handle in its domain, an EVSE in its prefix';
CREATE OPERATOR deg.@> (
    LEFTARG = deg.era, RIGHTARG = deg.era, FUNCTION = deg.era_contains,
    COMMUTATOR = OPERATOR(deg.<@),
    RESTRICT = deg.era_containment_sel, JOIN = contjoinsel
);
COMMENT ON OPERATOR deg.@> (deg.era, deg.era) IS 'contains: the right address lies inside the left one';

-- the upper bound of a namespace in the sort order, used in index conditions
CREATE FUNCTION deg.era_namespace_end(deg.era) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_namespace_end' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_namespace_end(deg.era) IS 'planner helper: a bound that sorts after every address inside the given one (prints as "<era>/*"; not an address)';

-- hierarchy
CREATE FUNCTION deg.era_scope(deg.era) RETURNS text
    AS 'MODULE_PATHNAME', 'era_scope_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_scope(deg.era) IS 'global or local';
CREATE FUNCTION deg.era_kind(deg.era) RETURNS text
    AS 'MODULE_PATHNAME', 'era_kind_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_kind(deg.era) IS 'domain, handle, did, evse or local';
CREATE FUNCTION deg.era_parent(deg.era) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_parent_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_parent(deg.era) IS 'the address one level up, NULL at the top';
CREATE FUNCTION deg.era_root(deg.era) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_root_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_root(deg.era) IS 'the topmost ancestor (the address itself at the top)';
CREATE FUNCTION deg.era_global(deg.era) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'era_global_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_global(deg.era) IS 'the global address a local one lives under (itself when global, NULL for a bare local name)';
CREATE FUNCTION deg.era_depth(deg.era) RETURNS integer
    AS 'MODULE_PATHNAME', 'era_depth_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.era_depth(deg.era) IS 'levels from the top: 1 for a top-level address';

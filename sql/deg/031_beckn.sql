-- Beckn interop: on_discover catalogs to offers, discover messages to intents.
-- Anything a message carries that does not map is reported in a NOTICE.

CREATE FUNCTION deg.import_catalog(on_discover jsonb)
RETURNS SETOF deg.energy_offer
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    msg jsonb := jsonb_strip_nulls(coalesce(on_discover->'message', on_discover));
    cat jsonb;
    o jsonb;
    item jsonb;
    item_attrs jsonb;
    oa jsonb;
    contract jsonb;
    pri jsonb;                  -- the provider's (filled) role inputs
    price jsonb;
    out jsonb;
    price_value numeric;
    price_currency text;
    unit text;
    open_role text;
    provider text;
    market boolean;
    geo jsonb;
    window_ jsonb;
    creds jsonb;
    dropped text[];
    notes text[];
    k text;
BEGIN
    IF jsonb_typeof(msg->'catalogs') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'invalid on_discover message: no "catalogs" array in "message"'
            USING ERRCODE = '22023';
    END IF;
    FOR cat IN SELECT * FROM jsonb_array_elements(msg->'catalogs') LOOP
        IF jsonb_typeof(cat->'beckn:offers') IS DISTINCT FROM 'array' THEN
            RAISE NOTICE 'catalog %: no offers', coalesce(cat->>'beckn:id', '(no id)');
            CONTINUE;
        END IF;
        FOR o IN SELECT * FROM jsonb_array_elements(cat->'beckn:offers') LOOP
            notes := '{}';
            dropped := '{}';
            oa := coalesce(o->'beckn:offerAttributes', '{}');
            contract := coalesce(oa->'contract', '{}');
            -- the item(s) the offer sells, joined by id
            item := (SELECT i FROM jsonb_array_elements(coalesce(cat->'beckn:items', '[]')) i
                      WHERE i->>'beckn:id' IN (SELECT jsonb_array_elements_text(coalesce(o->'beckn:items', '[]')))
                      LIMIT 1);
            IF jsonb_array_length(coalesce(o->'beckn:items', '[]')) > 1 THEN
                notes := notes || format('the offer lists %s items; location and attributes come from %s',
                                         jsonb_array_length(o->'beckn:items'), item->>'beckn:id');
            END IF;
            item_attrs := coalesce(item->'beckn:itemAttributes', '{}');
            pri := coalesce((SELECT r->'roleInputs' FROM jsonb_array_elements(coalesce(contract->'roles', '[]')) r
                              WHERE (r->>'filled')::boolean OR r ? 'filledBy' ORDER BY r->>'role' = 'SELLER' DESC LIMIT 1), '{}');
            market := EXISTS (SELECT 1 FROM jsonb_array_elements(coalesce(contract->'roles', '[]')) r
                               WHERE r->>'role' = 'MARKET_CLEARING_AGENT');

            out := jsonb_build_object('offerId', coalesce(oa->>'offerId', o->>'beckn:id'));
            IF oa->>'contractId' IS NOT NULL OR contract->>'contractId' IS NOT NULL THEN
                out := out || jsonb_build_object('contractId', coalesce(oa->>'contractId', contract->>'contractId'));
            END IF;
            provider := coalesce(oa->>'providerId',
                                 CASE jsonb_typeof(o->'beckn:provider') WHEN 'string' THEN o->>'beckn:provider'
                                      ELSE o->'beckn:provider'->>'beckn:id' END,
                                 item->'beckn:provider'->>'beckn:id',
                                 on_discover->'context'->>'bpp_id');
            IF provider IS NULL THEN
                RAISE NOTICE 'offer %: skipped, it names no provider', out->>'offerId';
                CONTINUE;
            END IF;
            out := out || jsonb_build_object('providerId', provider);

            open_role := coalesce(oa->>'openRole',
                                  (SELECT r->>'role' FROM jsonb_array_elements(coalesce(contract->'roles', '[]')) r
                                    WHERE NOT coalesce((r->>'filled')::boolean, false) LIMIT 1));
            IF open_role IS NULL THEN
                open_role := 'BUYER';
                notes := notes || 'no openRole: BUYER assumed'::text;
            END IF;
            out := out || jsonb_build_object('openRole', open_role);

            -- price per kWh: beckn:price (two shapes), else the provider's role inputs
            price := o->'beckn:price';
            price_value := coalesce(price->>'value', price->>'schema:price')::numeric;
            price_currency := coalesce(price->>'currency', price->>'schema:priceCurrency', pri->>'currency');
            unit := coalesce(price->'applicableQuantity'->>'unitCode', price->>'schema:unitText');
            IF unit IS NOT NULL AND upper(unit) NOT IN ('KWH', 'KILOWATT HOUR') THEN
                notes := notes || format('price unit %s is not per kWh; price not mapped', unit);
                price_value := NULL;
            END IF;
            IF pri ? 'pricePerKWh' AND (price_value IS NULL OR price_value = 0) THEN
                price_value := (pri->>'pricePerKWh')::numeric;
            END IF;
            IF price_value = 0 AND (pri ? 'tariff' OR market) THEN
                -- a placeholder: the price comes from the tariff, or from clearing
                price_value := NULL;
                IF market THEN
                    notes := notes || 'pay-as-clear market: the price is known only after clearing'::text;
                END IF;
            END IF;
            IF price_value IS NOT NULL THEN
                out := out || jsonb_build_object('pricePerKWh', price_value);
            END IF;
            IF price_currency IS NOT NULL THEN
                out := out || jsonb_build_object('currency', price_currency);
            END IF;
            IF pri ? 'tariff' THEN
                out := out || jsonb_build_object('tariff', pri->'tariff');
            END IF;
            IF pri ? 'offerCurve' THEN
                out := out || jsonb_build_object('offerCurve', pri->'offerCurve');
            END IF;

            -- quantity bounds
            IF pri ? 'minimumQuantity' THEN
                out := out || jsonb_build_object('minQuantityKWh', pri->'minimumQuantity');
            END IF;
            IF pri ? 'maximumQuantity' OR item_attrs ? 'availableQuantity' THEN
                out := out || jsonb_build_object('maxQuantityKWh', coalesce(pri->'maximumQuantity', item_attrs->'availableQuantity'));
            END IF;

            -- availability: the offer's validity, the seller's window, the production
            -- window, the contract's validity window, the catalog's validity
            window_ := coalesce(
                CASE WHEN o ? 'beckn:validity' THEN jsonb_build_object('start', o->'beckn:validity'->'schema:startDate',
                                                                       'end', o->'beckn:validity'->'schema:endDate') END,
                pri->'validityWindow',
                item_attrs->'productionWindow',
                contract->'inputParameters'->'validityWindow',
                CASE WHEN cat ? 'beckn:validity' THEN jsonb_build_object('start', cat->'beckn:validity'->'schema:startDate',
                                                                         'end', cat->'beckn:validity'->'schema:endDate') END);
            IF window_ IS NOT NULL THEN
                out := out || jsonb_build_object('availabilityWindow',
                    jsonb_build_object('start', coalesce(window_->'start', window_->'startTime'),
                                       'end', coalesce(window_->'end', window_->'endTime')));
            END IF;

            -- location: the item's place, its service location, the seller's location
            geo := coalesce(item->'beckn:availableAt'->0->'geo', item_attrs->'serviceLocation'->'geo', pri->'location'->'geo');
            IF geo IS NOT NULL THEN
                out := out || jsonb_build_object('location', geo);
            END IF;

            IF coalesce(item_attrs->>'energySource', item_attrs->>'sourceType', pri->>'sourceType') IS NOT NULL THEN
                out := out || jsonb_build_object('energySource',
                    coalesce(item_attrs->>'energySource', item_attrs->>'sourceType', pri->>'sourceType'));
            END IF;
            IF coalesce(item_attrs->'minPowerKW', pri->'minPowerKW') IS NOT NULL THEN
                out := out || jsonb_build_object('minPowerKW', coalesce(item_attrs->'minPowerKW', pri->'minPowerKW'));
            END IF;
            IF coalesce(item_attrs->'maxPowerKW', pri->'maxPowerKW') IS NOT NULL THEN
                out := out || jsonb_build_object('maxPowerKW', coalesce(item_attrs->'maxPowerKW', pri->'maxPowerKW'));
            END IF;

            -- credential types the provider presents (EnergyCredentials.presentedCredentials);
            -- the credentials a taker must present (requiredCredentials) stay in "credentials"
            creds := (SELECT jsonb_agg(DISTINCT t ORDER BY t)
                        FROM jsonb_array_elements(CASE jsonb_typeof(oa->'credentials'->'presentedCredentials')
                                                  WHEN 'array' THEN oa->'credentials'->'presentedCredentials' ELSE '[]' END) c,
                             LATERAL jsonb_array_elements_text(CASE jsonb_typeof(c->'type') WHEN 'array' THEN c->'type'
                                                               WHEN 'string' THEN jsonb_build_array(c->'type') ELSE '[]' END) t
                       WHERE t <> 'VerifiableCredential');
            IF creds IS NOT NULL THEN
                out := out || jsonb_build_object('credentialTypes', creds);
            END IF;

            -- attributes: the item's, without JSON-LD keywords; its daily hours too
            IF item_attrs - '@context' - '@type' <> '{}' OR item ? 'beckn:availabilityWindow' THEN
                out := out || jsonb_build_object('attributes',
                    item_attrs - '@context' - '@type'
                    || CASE WHEN item ? 'beckn:availabilityWindow'
                            THEN jsonb_build_object('dailyAvailability', item->'beckn:availabilityWindow') ELSE '{}' END);
            END IF;

            -- kept without interpretation
            out := out || jsonb_strip_nulls(jsonb_build_object(
                'providerUri', oa->'providerUri',
                'credentials', oa->'credentials',
                'contract', oa->'contract',
                'contractSummary', oa->'contractSummary',
                'expectedInputs', oa->'expectedInputs',
                'catalogId', cat->'beckn:id',
                'itemIds', o->'beckn:items',
                'name', o->'beckn:descriptor'->'schema:name',
                'acceptedPaymentMethod', o->'beckn:acceptedPaymentMethod'));

            -- what did not map
            FOR k IN SELECT jsonb_object_keys(oa) LOOP
                IF k NOT IN ('@context', '@type', 'offerId', 'contractId', 'providerId', 'providerUri', 'openRole',
                             'contract', 'contractSummary', 'expectedInputs', 'credentials') THEN
                    dropped := dropped || ('offerAttributes.' || k);
                END IF;
            END LOOP;
            IF item IS NOT NULL THEN
                FOR k IN SELECT jsonb_object_keys(item) LOOP
                    IF k NOT IN ('@context', '@type', 'beckn:id', 'beckn:availableAt', 'beckn:availabilityWindow',
                                 'beckn:provider', 'beckn:itemAttributes') THEN
                        dropped := dropped || ('item.' || k);
                    END IF;
                END LOOP;
            END IF;
            IF cardinality(dropped) > 0 THEN
                notes := notes || ('not mapped: ' || array_to_string(dropped, ', '));
            END IF;
            IF cardinality(notes) > 0 THEN
                RAISE NOTICE 'offer %: %', out->>'offerId', array_to_string(notes, '; ');
            END IF;
            RETURN NEXT deg.energy_offer(out);
        END LOOP;
    END LOOP;
END $$;
COMMENT ON FUNCTION deg.import_catalog(jsonb) IS 'the energy offers of a Beckn on_discover message (catalogs, items and offers joined by item id)';

CREATE FUNCTION deg.intent_from_discover(discover jsonb)
RETURNS deg.energy_intent
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    msg jsonb := jsonb_strip_nulls(coalesce(discover->'message', discover));
    intent jsonb := coalesce(msg->'intent', '{}');
    obj jsonb := coalesce(intent->'objectives', '{}');
    out jsonb := '{}';
    notes text[] := '{}';
    sp jsonb;
    expr text;
    cond text;
    m text[];
    attr text;
    op text;
    val jsonb;
    range_ jsonb;
    k text;
BEGIN
    -- objectives (DEG EnergyIntent)
    IF obj ? 'targetChargeKWh' THEN
        out := out || jsonb_build_object('role', 'BUYER', 'quantityKWh', obj->'targetChargeKWh');
    ELSIF obj ? 'targetGenerationKWh' THEN
        out := out || jsonb_build_object('role', 'SELLER', 'quantityKWh', obj->'targetGenerationKWh');
    END IF;
    IF obj ? 'deadline' THEN
        out := out || jsonb_build_object('deadline', obj->'deadline');
    END IF;
    IF obj ? 'maxPricePerKWh' THEN
        out := out || jsonb_build_object('maxPricePerKWh', obj->'maxPricePerKWh');
        IF NOT (obj ? 'currency' OR intent ? 'currency') THEN
            notes := notes || 'maxPricePerKWh has no currency: the limit applies to prices in any currency'::text;
        END IF;
    END IF;
    IF coalesce(obj->>'currency', intent->>'currency') IS NOT NULL THEN
        out := out || jsonb_build_object('currency', coalesce(obj->>'currency', intent->>'currency'));
    END IF;
    IF obj ? 'preferredSource' THEN
        out := out || jsonb_build_object('acceptedSources', jsonb_build_array(obj->'preferredSource'));
    END IF;
    FOR k IN SELECT jsonb_object_keys(obj) LOOP
        IF k NOT IN ('targetChargeKWh', 'targetGenerationKWh', 'deadline', 'maxPricePerKWh', 'currency', 'preferredSource') THEN
            notes := notes || ('objectives.' || k || ' not mapped');
        END IF;
    END LOOP;
    FOR k IN SELECT jsonb_object_keys(intent) LOOP
        IF k NOT IN ('@context', '@type', 'objectives', 'fulfillment', 'currency') THEN
            notes := notes || ('intent.' || k || ' not mapped');
        END IF;
    END LOOP;

    -- delivery window: temporal.deliveryWindow, or a fulfillment stop's time range
    range_ := coalesce(msg->'temporal'->'deliveryWindow',
                       (SELECT s->'time'->'range' FROM jsonb_array_elements(coalesce(intent->'fulfillment'->'stops', '[]')) s
                         WHERE s->'time' ? 'range' LIMIT 1));
    IF range_ IS NOT NULL THEN
        out := out || jsonb_build_object('window', jsonb_build_object(
            'start', coalesce(range_->'start', range_->'startTime'),
            'end', coalesce(range_->'end', range_->'endTime')));
        IF out ? 'deadline' THEN
            out := out - 'deadline';
            notes := notes || 'both a deadline and a delivery window: the window is used'::text;
        END IF;
    END IF;

    -- spatial: s_dwithin of a point
    FOR sp IN SELECT * FROM jsonb_array_elements(coalesce(msg->'spatial', '[]')) LOOP
        IF sp->>'op' = 's_dwithin' AND sp->'geometry'->>'type' = 'Point' AND sp ? 'distanceMeters' AND NOT out ? 'location' THEN
            out := out || jsonb_build_object('location', sp->'geometry', 'radiusMeters', sp->'distanceMeters');
        ELSE
            notes := notes || format('spatial condition %s not mapped', sp::text);
        END IF;
    END LOOP;

    -- jsonpath filters: conjunctions of simple comparisons on item attributes
    IF msg ? 'filters' THEN
        expr := msg->'filters'->>'expression';
        IF msg->'filters'->>'type' IS DISTINCT FROM 'jsonpath' OR expr IS NULL THEN
            notes := notes || 'filters not mapped (only jsonpath expressions are)'::text;
        ELSE
            expr := regexp_replace(expr, '^\s*\$\[\?\((.*)\)\]\s*$', '\1');
            IF expr ~ '\|\|' THEN
                notes := notes || format('filter %s not mapped (|| is not supported)', expr);
            ELSE
                FOREACH cond IN ARRAY regexp_split_to_array(expr, '\s*&&\s*') LOOP
                    m := regexp_match(cond, '^\s*@\.(?:beckn:)?itemAttributes\.([A-Za-z0-9_.:]+)\s*(==|>=|<=|>|<|!=)\s*(.+?)\s*$');
                    IF m IS NULL THEN
                        notes := notes || format('filter condition %s not mapped', cond);
                        CONTINUE;
                    END IF;
                    attr := m[1];
                    op := m[2];
                    val := CASE WHEN m[3] ~ '^''.*''$' THEN to_jsonb(substr(m[3], 2, length(m[3]) - 2))
                                WHEN m[3] ~ '^-?[0-9.]+([eE][-+]?[0-9]+)?$' THEN to_jsonb(m[3]::numeric)
                                WHEN m[3] IN ('true', 'false') THEN to_jsonb(m[3]::boolean) END;
                    IF val IS NULL THEN
                        notes := notes || format('filter condition %s not mapped (value)', cond);
                    ELSIF attr = 'maxPowerKW' AND op IN ('>=', '>') THEN
                        out := out || jsonb_build_object('minPowerKW', val);
                    ELSIF attr IN ('availableQuantity', 'maxQuantityKWh') AND op IN ('>=', '>') THEN
                        out := out || jsonb_build_object('quantityKWh', val);
                    ELSIF attr IN ('sourceType', 'energySource') AND op = '==' THEN
                        out := out || jsonb_build_object('acceptedSources', jsonb_build_array(val));
                    ELSIF attr IN ('productionWindow.start', 'availabilityWindow.start') AND op IN ('<=', '<') THEN
                        out := jsonb_set(out, '{window}', coalesce(out->'window', '{}') || jsonb_build_object('start', val));
                    ELSIF attr IN ('productionWindow.end', 'availabilityWindow.end') AND op IN ('>=', '>') THEN
                        out := jsonb_set(out, '{window}', coalesce(out->'window', '{}') || jsonb_build_object('end', val));
                    ELSIF op = '==' AND attr !~ '\.' THEN
                        out := jsonb_set(out, '{requiredAttributes}',
                                         coalesce(out->'requiredAttributes', '{}') || jsonb_build_object(attr, val));
                    ELSE
                        notes := notes || format('filter condition %s not mapped', cond);
                    END IF;
                END LOOP;
            END IF;
        END IF;
    END IF;
    FOR k IN SELECT jsonb_object_keys(msg) LOOP
        IF k NOT IN ('intent', 'spatial', 'temporal', 'filters') THEN
            notes := notes || ('message.' || k || ' not mapped');
        END IF;
    END LOOP;
    IF cardinality(notes) > 0 THEN
        RAISE NOTICE 'discover: %', array_to_string(notes, '; ');
    END IF;
    RETURN deg.energy_intent(out);
END $$;
COMMENT ON FUNCTION deg.intent_from_discover(jsonb) IS 'the energy intent of a Beckn discover message: objectives, s_dwithin, temporal window, simple jsonpath filters';

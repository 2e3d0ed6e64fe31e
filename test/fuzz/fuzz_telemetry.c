/*
 * fuzz_telemetry.c: telemetry sets (src/core/telemetry.c), from their
 * serialized form (an aggregate's state, which may come from a client).
 *
 * Whatever telemetry_deserialize accepts must serialize back to exactly
 * the input, merge into an empty set unchanged and into itself doubled,
 * and read with a cursor to as many observations as each series says.
 * Binning into intervals and the value in force at instants are checked
 * against a direct evaluation over the observations.
 */
#include "core/telemetry.h"
#include "fuzz.h"
#include "telemetry_checks.h"

static bool
bytes_of(const TelemetrySet *set, DegBuf *out)
{
	degbuf_init(out);
	return telemetry_serialize(set, out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TelemetrySet set,
				copy;
	TelemetryError err;
	DegBuf		b1,
				b2;
	int			i;

	memset(&err, 0, sizeof(err));
	if (!telemetry_deserialize(data, size, &set, &err))
	{
		FUZZ_ASSERT(err.message[0] != '\0', "error without a message");
		FUZZ_ASSERT(set.nseries == 0 && set.series == NULL, "refused set not empty");
		return 0;
	}
	FUZZ_ASSERT(bytes_of(&set, &b1), "serialize");
	FUZZ_ASSERT(b1.len == size && memcmp(b1.data, data, size) == 0, "serialized form differs from the input");

	/* merged into an empty set: the same bytes */
	telemetry_init(&copy);
	FUZZ_ASSERT(telemetry_merge(&copy, &set, &err), "merge into empty: %s", err.message);
	FUZZ_ASSERT(bytes_of(&copy, &b2), "serialize copy");
	FUZZ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "merge into an empty set changes it");
	degbuf_free(&b2);

	for (i = 0; i < set.nseries; i++)
	{
		FUZZ_ASSERT(telemetry_find(&set, set.series[i].ref) == &set.series[i], "find series %d", i);
		check_series(&set.series[i]);
	}

	/* merged into itself: every series twice as long, still readable */
	FUZZ_ASSERT(telemetry_merge(&copy, &set, &err), "merge into a copy: %s", err.message);
	for (i = 0; i < copy.nseries; i++)
		FUZZ_ASSERT(copy.series[i].nobs == 2 * set.series[i].nobs, "merge count");
	FUZZ_ASSERT(bytes_of(&copy, &b2), "serialize doubled");
	telemetry_free(&copy);
	FUZZ_ASSERT(telemetry_deserialize((const uint8_t *) b2.data, b2.len, &copy, &err),
				"doubled set refused: %s", err.message);
	telemetry_free(&copy);
	degbuf_free(&b2);

	degbuf_free(&b1);
	telemetry_free(&set);
	return 0;
}

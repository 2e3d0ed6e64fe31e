/*
 * test_era.c: unit and property tests of the ERA grammar in src/core/era.c.
 */
#include "core/era.h"
#include "unit.h"

#include <stdlib.h>

/* parse text and return its canonical form, or "ERROR: <detail>" */
static const char *
canon(const char *text)
{
	static char out[ERA_MAX_FORMAT + 256];
	uint8_t		key[ERA_MAX_KEY];
	size_t		keylen;
	EraError	err;

	if (!era_parse(text, strlen(text), key, &keylen, &err))
	{
		snprintf(out, sizeof(out), "ERROR: %s", err.detail);
		return out;
	}
	era_format(key, keylen, out);
	return out;
}

static bool
key_of(const char *text, uint8_t *key, size_t *keylen)
{
	EraError	err;

	return era_parse(text, strlen(text), key, keylen, &err);
}

static int
cmp_text(const char *a, const char *b)
{
	uint8_t		ka[ERA_MAX_KEY],
				kb[ERA_MAX_KEY];
	size_t		la,
				lb;

	if (!key_of(a, ka, &la) || !key_of(b, kb, &lb))
		return 99;
	return era_compare(ka, la, kb, lb);
}

static bool
contains_text(const char *outer, const char *inner)
{
	uint8_t		ko[ERA_MAX_KEY],
				ki[ERA_MAX_KEY];
	size_t		lo,
				li;

	return key_of(outer, ko, &lo) && key_of(inner, ki, &li) &&
		era_contains(ko, lo, ki, li);
}

/* text of the prefix of key(text) of length f(key) ("" when 0) */
static const char *
prefix_text(const char *text, size_t (*f) (const uint8_t *, size_t))
{
	static char out[ERA_MAX_FORMAT];
	uint8_t		key[ERA_MAX_KEY];
	size_t		keylen;
	size_t		n;

	if (!key_of(text, key, &keylen))
		return "ERROR";
	n = f(key, keylen);
	if (n == 0)
		return "";
	era_format(key, n, out);
	return out;
}

static int
depth_of(const char *text)
{
	uint8_t		key[ERA_MAX_KEY];
	size_t		keylen;

	return key_of(text, key, &keylen) ? era_depth(key, keylen) : -1;
}

static const char *
kind_of(const char *text)
{
	uint8_t		key[ERA_MAX_KEY];
	size_t		keylen;

	return key_of(text, key, &keylen) ? era_kind_name(era_kind(key, keylen)) : "ERROR";
}

static void
test_valid_forms(void)
{
	static const char *const cases[][2] = {
		{"bpp.cpo.example.com", "bpp.cpo.example.com"},
		{"Household-Solar-001.Prosumer.Example.COM", "household-solar-001.prosumer.example.com"},
		{"household-solar-battery-001.greenenergy.example.com", "household-solar-battery-001.greenenergy.example.com"},
		{"community-solar-array.localenergy.coop", "community-solar-array.localenergy.coop"},
		{"example-company.com", "example-company.com"},
		{"xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"a.b", "a.b"},
		{"household-solar-001.prosumer@example.com", "household-solar-001.prosumer@example.com"},
		{"Driver.42+EV@Fleet.Example.com", "driver.42+ev@fleet.example.com"},
		{"did:deg:household-solar-001", "did:deg:household-solar-001"},
		{"DID:DEG:Household-Solar-001", "did:deg:Household-Solar-001"},
		{"did:web:example-utility.com", "did:web:example-utility.com"},
		{"did:web:example.com:users:Alice", "did:web:example.com:users:Alice"},
		{"did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"},
		{"did:web:example.com%3A8443", "did:web:example.com%3A8443"},
		{"IN*ECO*BTM*01*CCS2*A", "IN*ECO*BTM*01*CCS2*A"},
		{"in*eco*btm*01*ccs2*a", "IN*ECO*BTM*01*CCS2*A"},
		{"DE*ABC*E123-4", "DE*ABC*E123-4"},
		{"IN*ECO", "IN*ECO"},
		{"battery-inverter-01", "battery-inverter-01"},
		{"PANEL-ROW-A-01", "PANEL-ROW-A-01"},
		{"ev-charger-ccs2-001", "ev-charger-ccs2-001"},
		{"IN-ECO-BTM-01", "IN-ECO-BTM-01"},
		{"household-solar-001.prosumer@example.com/battery-inverter-01", "household-solar-001.prosumer@example.com/battery-inverter-01"},
		{"Household.Example.com/Battery.Inverter_01/Cell-7", "household.example.com/Battery.Inverter_01/Cell-7"},
		{"community-solar-array.localenergy.coop/PANEL-ROW-A-01", "community-solar-array.localenergy.coop/PANEL-ROW-A-01"},
		{"did:deg:ecopower-charging/evse-1", "did:deg:ecopower-charging/evse-1"},
		{"in*eco*btm*01/meter", "IN*ECO*BTM*01/meter"},
		{"rack-1/slot-2", "rack-1/slot-2"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(canon(cases[i][0]), cases[i][1], "canonical form of %s", cases[i][0]);
}

static void
test_invalid_forms(void)
{
	static const char *const cases[][2] = {
		{"", "empty string"},
		{"bpp..cpo.example.com", "empty label at position 5"},
		{".example.com", "empty label at position 1"},
		{"example.com.", "empty label at position 13"},
		{"exa_mple.com", "invalid character \"_\" at position 4"},
		{"-bad.example.com", "label starts with a hyphen at position 1"},
		{"bad-.example.com", "label ends with a hyphen at position 4"},
		{"192.168.1.1", "top-level label at position 11 is all digits"},
		{"caf\xc3\xa9.example.com", "invalid character \"\xc3\xa9\" (U+00E9) at position 4"},
		{"a b.com", "invalid character \" \" at position 2"},
		{"tab\there.com", "invalid character U+0009 at position 4"},
		{"x\xff.com", "invalid character byte 0xFF at position 2"},
		{"@example.com", "empty name before \"@\" at position 1"},
		{"user@", "empty domain after \"@\" at position 5"},
		{"a@b@example.com", "second \"@\" at position 4"},
		{"user@localhost", "\"localhost\" is a single label"},
		{".user@example.com", "misplaced \".\" at position 1"},
		{"us..er@example.com", "misplaced \".\" at position 3"},
		{"us!er@example.com", "invalid character \"!\" at position 3"},
		{"did:", "missing method name at position 5"},
		{"did::x", "missing method name at position 5"},
		{"did:deg", "missing method-specific id"},
		{"did:deg:", "empty id segment at position 9"},
		{"did:web:a::b", "empty id segment at position 11"},
		{"did:de-g:x", "invalid character \"-\" at position 7"},
		{"did:web:a%4", "\"%\" at position 10 is not followed by two hex digits"},
		{"did:web:a%zz", "\"%\" at position 10 is not followed by two hex digits"},
		{"did:web:a b", "invalid character \" \" at position 10"},
		{"IN*", "empty part at position 4"},
		{"I*ECO*1", "country code \"I\" at position 1 is not two letters"},
		{"I1*ECO", "invalid character \"1\" at position 2"},
		{"IN*EC*1", "operator code \"EC\" at position 4 is not three letters or digits"},
		{"IN*ECO**1", "empty part at position 8"},
		{"*ECO", "empty part at position 1"},
		{"IN*E-O", "invalid character \"-\" at position 5"},
		{"IN*ECO*a.b", "invalid character \".\" at position 9"},
		{"/x", "nothing before \"/\" at position 1"},
		{"example.com/", "empty local name at position 13"},
		{"example.com//x", "empty local name at position 13"},
		{"example.com/a b", "invalid character \" \" at position 14"},
		{"example.com/..", "\"..\" at position 13 is not a name"},
		{"example.com/.", "\".\" at position 13 is not a name"},
		{"example.com/a@b", "invalid character \"@\" at position 14"},
		{"!!!", "invalid character \"!\" at position 1"},
		{"\"quoted\"", "invalid character '\"' at position 1"},
		{"bpp..cpo/x", "empty label at position 5"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		const char *got = canon(cases[i][0]);

		CHECK(strncmp(got, "ERROR: ", 7) == 0 && strstr(got, cases[i][1]) != NULL,
			  "error for \"%s\": got \"%s\", want \"%s\"", cases[i][0], got, cases[i][1]);
	}
}

static void
test_limits(void)
{
	char		buf[2048];
	char		label[80];

	/* a 63-character label is fine, 64 is not */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(buf, sizeof(buf), "%s.com", label);
	CHECK(strncmp(canon(buf), "ERROR", 5) != 0, "63-character label accepted");
	snprintf(buf, sizeof(buf), "%sa.com", label);
	CHECK(strstr(canon(buf), "label of 64 characters at position 1 (at most 63)") != NULL,
		  "64-character label refused: %s", canon(buf));

	/* 253-character domain accepted, 254 refused */
	snprintf(buf, sizeof(buf), "%s.%s.%s.%.61s", label, label, label, label);
	CHECK(strlen(buf) == 253 && strncmp(canon(buf), "ERROR", 5) != 0, "253-character domain accepted");
	snprintf(buf, sizeof(buf), "%s.%s.%s.%.62s", label, label, label, label);
	CHECK(strstr(canon(buf), "domain name of 254 characters") != NULL, "254-character domain refused: %s", canon(buf));

	/* local names: 63 fine, 64 not */
	snprintf(buf, sizeof(buf), "example.com/%s", label);
	CHECK(strncmp(canon(buf), "ERROR", 5) != 0, "63-character local name accepted");
	snprintf(buf, sizeof(buf), "example.com/%sb", label);
	CHECK(strstr(canon(buf), "local name of 64 characters at position 13") != NULL,
		  "64-character local name refused: %s", canon(buf));

	/* 1024 bytes in all: fine; 1025: refused */
	/* "example.com" then "/x" pairs, then one more name character: 1024 bytes */
	strcpy(buf, "example.com");
	while (strlen(buf) + 2 <= 1023)
		strcat(buf, "/x");
	strcat(buf, "y");
	CHECK(strlen(buf) == 1024 && strncmp(canon(buf), "ERROR", 5) != 0,
		  "1024-byte address accepted (len %zu): %.40s", strlen(buf), canon(buf));
	strcat(buf, "z");
	CHECK(strstr(canon(buf), "1025 bytes (at most 1024)") != NULL, "1025-byte address refused");

	/* a handle's name: 64 fine, 65 not */
	snprintf(buf, sizeof(buf), "%sb@example.com", label);
	CHECK(strncmp(canon(buf), "ERROR", 5) != 0, "64-character handle name accepted");
	snprintf(buf, sizeof(buf), "%sbc@example.com", label);
	CHECK(strstr(canon(buf), "name of 65 characters before") != NULL, "65-character handle name refused");
}

static void
test_order(void)
{
	/* a namespace is contiguous: the global, its locals, handles, sub-domains */
	static const char *const sorted[] = {
		"example.com",
		"example.com/a",
		"example.com/a/b",
		"example.com/b",
		"user@example.com",
		"user@example.com/ev",
		"a.example.com",
		"z.a.example.com",
		"b.example.com",
		"example-2.com",
		"example0.com",
		"zzz.com",
		"example.org",
		"did:deg:x",
		"did:deg:x/y",
		"did:web:example.com",
		"did:web:example.com:alice",
		"IN*ECO",
		"IN*ECO*BTM",
		"IN*ECO*BTM*01",
		"IN*ECO*BTM*01/meter",
		"IN*ECO*BTM*01*CCS2",
		"IN*ECO*BTM-2",
		"IN*ECP",
		"PANEL-ROW-A-01",
		"battery",
		"battery/cell",
		"battery-2",
	};
	size_t		n = sizeof(sorted) / sizeof(sorted[0]);
	size_t		i,
				j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
		{
			int			want = (i < j) ? -1 : (i > j) ? 1 : 0;

			CHECK(cmp_text(sorted[i], sorted[j]) == want, "compare %s with %s", sorted[i], sorted[j]);
		}
	CHECK(cmp_text("Example.COM", "example.com") == 0, "case-folded domains are equal");
	CHECK(cmp_text("PANEL-ROW-A-01", "panel-row-a-01") != 0, "local names keep their case");
}

static void
test_hierarchy(void)
{
	CHECK_STR(prefix_text("a.b.example.com", era_parent_len), "b.example.com", "parent of sub-domain");
	CHECK_STR(prefix_text("example.com", era_parent_len), "", "a two-label domain has no parent");
	CHECK_STR(prefix_text("user@a.example.com", era_parent_len), "a.example.com", "parent of handle");
	CHECK_STR(prefix_text("user@a.example.com/ev/bms", era_parent_len), "user@a.example.com/ev", "parent of local");
	CHECK_STR(prefix_text("did:web:example.com:u:v", era_parent_len), "did:web:example.com:u", "parent of did path");
	CHECK_STR(prefix_text("did:key:z6Mk", era_parent_len), "", "did has no parent");
	CHECK_STR(prefix_text("did:key:z6Mk/dev", era_parent_len), "did:key:z6Mk", "parent of local under did");
	CHECK_STR(prefix_text("IN*ECO*BTM*01*CCS2*A", era_parent_len), "IN*ECO*BTM*01*CCS2", "parent of evse");
	CHECK_STR(prefix_text("IN*ECO", era_parent_len), "", "operator has no parent");
	CHECK_STR(prefix_text("battery", era_parent_len), "", "bare local has no known parent");
	CHECK_STR(prefix_text("battery/cell", era_parent_len), "battery", "parent in a bare local path");

	CHECK_STR(prefix_text("user@a.example.com/ev/bms", era_root_len), "example.com", "root of a local");
	CHECK_STR(prefix_text("example.com", era_root_len), "example.com", "root of a root");
	CHECK_STR(prefix_text("IN*ECO*BTM*01", era_root_len), "IN*ECO", "root of evse");
	CHECK_STR(prefix_text("did:web:example.com:u/x", era_root_len), "did:web:example.com", "root of did");
	CHECK_STR(prefix_text("battery/cell/7", era_root_len), "battery", "root of bare local path");

	CHECK_STR(prefix_text("user@a.example.com/ev/bms", era_global_len), "user@a.example.com", "global of local");
	CHECK_STR(prefix_text("a.example.com", era_global_len), "a.example.com", "global of global");
	CHECK_STR(prefix_text("battery/cell", era_global_len), "", "bare local has no global");

	CHECK(depth_of("example.com") == 1, "depth 1");
	CHECK(depth_of("a.example.com") == 2, "depth 2");
	CHECK(depth_of("user@a.example.com/ev/bms") == 5, "depth 5");
	CHECK(depth_of("IN*ECO*BTM*01*CCS2*A") == 5, "evse depth");
	CHECK(depth_of("did:key:z6Mk") == 1, "did depth");
	CHECK(depth_of("battery") == 1, "bare depth");
	CHECK(depth_of("battery/cell") == 2, "bare path depth");

	CHECK_STR(kind_of("example.com"), "domain", "kind domain");
	CHECK_STR(kind_of("u@example.com"), "handle", "kind handle");
	CHECK_STR(kind_of("did:deg:x"), "did", "kind did");
	CHECK_STR(kind_of("IN*ECO*X"), "evse", "kind evse");
	CHECK_STR(kind_of("example.com/x"), "local", "kind local");
	CHECK_STR(kind_of("x"), "local", "kind bare local");
	CHECK_STR(kind_of("did:deg:x/y"), "local", "kind local under did");

	CHECK(contains_text("example.com", "example.com"), "containment is reflexive");
	CHECK(contains_text("example.com", "a.b.example.com"), "sub-domain inside domain");
	CHECK(contains_text("example.com", "u@a.example.com"), "handle inside domain");
	CHECK(contains_text("example.com", "a.example.com/x/y"), "local inside domain");
	CHECK(contains_text("a.example.com/x", "a.example.com/x/y"), "local inside local");
	CHECK(!contains_text("a.example.com/x", "a.example.com/xy"), "sibling with a longer name is not inside");
	CHECK(!contains_text("example.com", "myexample.com"), "suffix without dot is not inside");
	CHECK(!contains_text("example.com", "example.com.evil.org") , "a different tld is not inside");
	CHECK(!contains_text("a.example.com", "example.com"), "parent is not inside child");
	CHECK(contains_text("IN*ECO", "IN*ECO*BTM*01*CCS2*A"), "evse inside operator");
	CHECK(contains_text("IN*ECO*BTM", "IN*ECO*BTM*01"), "evse inside location");
	CHECK(!contains_text("IN*ECO*BTM", "IN*ECO*BTMX"), "evse prefix is by part");
	CHECK(contains_text("did:web:example.com", "did:web:example.com:alice"), "did path inside did");
	CHECK(!contains_text("did:web:example.com", "example.com"), "families are separate");
	CHECK(contains_text("battery", "battery/cell"), "bare local path");
}

/* deterministic pseudo-random numbers (xorshift), so failures reproduce */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
random_name(char *buf, const char *alphabet, int maxlen)
{
	int			n = 1 + (int) (rng() % (uint64_t) maxlen);
	size_t		alen = strlen(alphabet);
	int			i;

	for (i = 0; i < n; i++)
		buf[i] = alphabet[rng() % alen];
	buf[n] = '\0';
}

/* a random valid address of any form, from a small vocabulary so that namespaces overlap */
static void
random_era(char *buf)
{
	static const char *const labels[] = {"com", "example", "a", "b", "grid", "x-1", "org"};
	static const char *const names[] = {"ev", "bms", "Cell-1", "meter", "pv.1"};
	char		tmp[64];
	int			form = (int) (rng() % 5);
	int			n,
				i;

	buf[0] = '\0';
	switch (form)
	{
		case 0:
		case 1:
			n = 2 + (int) (rng() % 3);
			for (i = 0; i < n; i++)
			{
				strcat(buf, labels[rng() % 7]);
				if (i + 1 < n)
					strcat(buf, ".");
			}
			if (strlen(buf) >= 4 && strcmp(buf + strlen(buf) - 4, ".x-1") == 0)
				strcat(buf, ".net");
			if (form == 1)
			{
				random_name(tmp, "abcu.", 4);
				if (tmp[0] == '.' || tmp[strlen(tmp) - 1] == '.' || strstr(tmp, ".."))
					strcpy(tmp, "u");
				memmove(buf + strlen(tmp) + 1, buf, strlen(buf) + 1);
				memcpy(buf, tmp, strlen(tmp));
				buf[strlen(tmp)] = '@';
			}
			break;
		case 2:
			strcpy(buf, rng() % 2 ? "did:web:" : "did:deg:");
			n = 1 + (int) (rng() % 3);
			for (i = 0; i < n; i++)
			{
				random_name(tmp, "abAB.-_9", 3);
				strcat(buf, tmp);
				if (i + 1 < n)
					strcat(buf, ":");
			}
			break;
		case 3:
			strcpy(buf, rng() % 2 ? "IN*ECO" : "DE*AB1");
			n = (int) (rng() % 4);
			for (i = 0; i < n; i++)
			{
				random_name(tmp, "AB01-", 3);
				strcat(buf, "*");
				strcat(buf, tmp);
			}
			break;
		default:
			random_name(buf, "abAB-_", 4);
			break;
	}
	n = (int) (rng() % 3);
	for (i = 0; i < n; i++)
	{
		strcat(buf, "/");
		strcat(buf, names[rng() % 5]);
	}
}

typedef struct Item
{
	uint8_t		key[ERA_MAX_KEY];
	size_t		len;
} Item;

static int
item_cmp(const void *a, const void *b)
{
	const Item *x = a;
	const Item *y = b;

	return era_compare(x->key, x->len, y->key, y->len);
}

static void
test_properties(void)
{
	enum
	{
	N = 3000};
	static Item items[N];
	char		text[ERA_MAX_FORMAT];
	char		again[ERA_MAX_FORMAT];
	int			bad_roundtrip = 0,
				bad_parent = 0,
				bad_contiguous = 0,
				rejected = 0;
	int			i,
				j;

	for (i = 0; i < N; i++)
	{
		EraError	err;
		size_t		len;
		size_t		plen;

		random_era(text);
		if (!era_parse(text, strlen(text), items[i].key, &items[i].len, &err))
		{
			rejected++;
			printf("# rejected generated \"%s\": %s\n", text, err.detail);
			items[i].len = 0;
			continue;
		}
		/* canonical text parses back to the same key, and formatting is idempotent */
		len = era_format(items[i].key, items[i].len, again);
		if (!era_key_valid(items[i].key, items[i].len) || len != strlen(again))
			bad_roundtrip++;
		/* every ancestor contains it and has depth one less */
		plen = era_parent_len(items[i].key, items[i].len);
		if (plen > 0 &&
			(!era_contains(items[i].key, plen, items[i].key, items[i].len) ||
			 era_depth(items[i].key, plen) + 1 != era_depth(items[i].key, items[i].len) ||
			 !era_key_valid(items[i].key, plen)))
			bad_parent++;
		if (plen == 0 && era_depth(items[i].key, items[i].len) != 1)
			bad_parent++;
	}
	CHECK(rejected == 0, "all generated addresses parse (%d rejected)", rejected);
	CHECK(bad_roundtrip == 0, "format/parse round trip (%d bad)", bad_roundtrip);
	CHECK(bad_parent == 0, "parent is a contained ancestor one level up (%d bad)", bad_parent);

	/* in sorted order, the members of any namespace form one contiguous run */
	qsort(items, N, sizeof(Item), item_cmp);
	for (i = 0; i < N; i += 7)
	{
		int			first = -1,
					last = -1,
					inside = 0;

		for (j = 0; j < N; j++)
			if (era_contains(items[i].key, items[i].len, items[j].key, items[j].len))
			{
				if (first < 0)
					first = j;
				last = j;
				inside++;
			}
		if (inside != last - first + 1)
			bad_contiguous++;
	}
	CHECK(bad_contiguous == 0, "namespaces are contiguous in sort order (%d bad)", bad_contiguous);
}

/* random bytes never crash the parser; whatever it accepts round-trips */
static void
test_garbage(void)
{
	static const char alphabet[] = "aZ09.-_@*/:%did*IN \t\"\xc3\xa9\xff\x01";
	char		buf[1100];
	int			bad = 0;
	int			i;

	for (i = 0; i < 100000; i++)
	{
		size_t		n = (size_t) (rng() % (i % 100 == 0 ? 1100 : 40));
		size_t		k;
		uint8_t		key[ERA_MAX_KEY];
		size_t		keylen;
		EraError	err;

		for (k = 0; k < n; k++)
			buf[k] = alphabet[rng() % (sizeof(alphabet) - 1)];
		if (era_parse(buf, n, key, &keylen, &err))
		{
			if (!era_key_valid(key, keylen))
				bad++;
		}
		else if (err.detail[0] == '\0')
			bad++;
	}
	CHECK(bad == 0, "garbage: every result round-trips or has an error detail (%d bad)", bad);
}

int
main(void)
{
	test_valid_forms();
	test_invalid_forms();
	test_limits();
	test_order();
	test_hierarchy();
	test_properties();
	test_garbage();
	return unit_done("era");
}

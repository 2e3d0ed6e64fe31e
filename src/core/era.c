/*
 * era.c: the Energy Resource Address grammar, sort key and hierarchy.
 *
 * The form of an address is chosen by what it contains, not by trial: a
 * "did:" prefix makes a DID, a "*" an EVSE id, an "@" a handle, a "." a
 * domain, anything else a bare local name; a "/" separates a global address
 * from the local names beneath it.  So an error always names the one form
 * the input was read as, and the offending character and its position.
 */
#include "era.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct Parser
{
	const char *text;			/* the whole input, for positions */
	size_t		len;
	uint8_t    *key;
	size_t		keylen;
	EraError   *err;
} Parser;

static const char FORM_ANY[] = "an energy resource address";
static const char FORM_DOMAIN[] = "a domain name";
static const char FORM_HANDLE[] = "a handle (name@domain)";
static const char FORM_DID[] = "a DID (did:method:id)";
static const char FORM_EVSE[] = "an EVSE id (country*operator*...)";
static const char FORM_LOCAL[] = "a local name";

static bool
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned char
to_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char) (c - 'A' + 'a') : c;
}

static unsigned char
to_upper(unsigned char c)
{
	return (c >= 'a' && c <= 'z') ? (unsigned char) (c - 'a' + 'A') : c;
}

static bool
is_sep(uint8_t b)
{
	return b == ERA_SEP_LOCAL || b == ERA_SEP_HANDLE || b == ERA_SEP_LABEL;
}

/* 1-based character position of byte offset off, counting UTF-8 characters */
static size_t
char_position(const char *s, size_t off)
{
	size_t		pos = 1;
	size_t		i;

	for (i = 0; i < off; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			pos++;
	return pos;
}

/* length of the valid UTF-8 sequence at s[0..avail), 0 when invalid */
static size_t
utf8_sequence(const unsigned char *s, size_t avail, uint32_t *cp)
{
	size_t		n;
	size_t		i;
	uint32_t	c;

	if (s[0] < 0x80)
		n = 1, c = s[0];
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
		(c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return n;
}

/* the character at off, quoted when printable, as U+XXXX or a byte otherwise */
static void
describe_char(const Parser *p, size_t off, char *buf, size_t cap)
{
	const unsigned char *s = (const unsigned char *) p->text + off;
	uint32_t	cp = 0;
	size_t		n;

	if (s[0] == '"')
		snprintf(buf, cap, "'\"'");
	else if (s[0] >= 0x20 && s[0] < 0x7F)
		snprintf(buf, cap, "\"%c\"", s[0]);
	else if ((n = utf8_sequence(s, p->len - off, &cp)) == 0)
		snprintf(buf, cap, "byte 0x%02X", s[0]);
	else if (cp < 0xA0)
		snprintf(buf, cap, "U+%04X", (unsigned) cp);
	else
		snprintf(buf, cap, "\"%.*s\" (U+%04X)", (int) n, (const char *) s,
				 (unsigned) cp);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool
fail(Parser *p, const char *form, size_t off, const char *fmt,...)
{
	va_list		ap;

	p->err->form = form;
	p->err->position = (off == (size_t) -1) ? 0 : char_position(p->text, off);
	va_start(ap, fmt);
	vsnprintf(p->err->detail, sizeof(p->err->detail), fmt, ap);
	va_end(ap);
	return false;
}

static bool
bad_char(Parser *p, const char *form, size_t off)
{
	char		what[32];

	describe_char(p, off, what, sizeof(what));
	return fail(p, form, off, "invalid character %s at position %zu",
				what, char_position(p->text, off));
}

static bool
put(Parser *p, uint8_t b)
{
	if (p->keylen >= ERA_MAX_KEY)
		return fail(p, FORM_ANY, (size_t) -1, "address too long");
	p->key[p->keylen++] = b;
	return true;
}

static size_t
find_byte(const char *s, size_t from, size_t to, char c)
{
	size_t		i;

	for (i = from; i < to; i++)
		if (s[i] == c)
			return i;
	return to;
}

/* a domain name in text[b, e), read as part of form; its labels go to the key reversed */
static bool
parse_domain(Parser *p, size_t b, size_t e, const char *form)
{
	size_t		starts[ERA_MAX_DOMAIN / 2 + 2];
	size_t		ends[ERA_MAX_DOMAIN / 2 + 2];
	size_t		nlabels = 0;
	size_t		start = b;
	size_t		i;
	bool		all_digits = true;

	if (e - b > ERA_MAX_DOMAIN)
		return fail(p, form, b, "domain name of %zu characters at position %zu (at most %d)",
					e - b, char_position(p->text, b), ERA_MAX_DOMAIN);
	for (i = b; i <= e; i++)
	{
		unsigned char c = (i < e) ? (unsigned char) p->text[i] : '.';

		if (c != '.')
		{
			if (!is_alnum(c) && c != '-')
				return bad_char(p, form, i);
			if (!is_digit(c))
				all_digits = false;
			continue;
		}
		if (i == start)
			return fail(p, form, start, "empty label at position %zu",
						char_position(p->text, start));
		if (i - start > ERA_MAX_LABEL)
			return fail(p, form, start, "label of %zu characters at position %zu (at most %d)",
						i - start, char_position(p->text, start), ERA_MAX_LABEL);
		if (p->text[start] == '-')
			return fail(p, form, start, "label starts with a hyphen at position %zu",
						char_position(p->text, start));
		if (p->text[i - 1] == '-')
			return fail(p, form, i - 1, "label ends with a hyphen at position %zu",
						char_position(p->text, i - 1));
		starts[nlabels] = start;
		ends[nlabels] = i;
		nlabels++;
		if (i < e)
			all_digits = true;	/* only the last label's digits matter */
		start = i + 1;
	}
	if (nlabels < 2)
		return fail(p, form, b, "\"%.*s\" is a single label; a domain name needs at least two",
					(int) (e - b), p->text + b);
	if (all_digits)
		return fail(p, form, starts[nlabels - 1],
					"top-level label at position %zu is all digits (an IP address is not an ERA)",
					char_position(p->text, starts[nlabels - 1]));
	for (i = nlabels; i-- > 0;)
	{
		size_t		j;

		for (j = starts[i]; j < ends[i]; j++)
			if (!put(p, to_lower((unsigned char) p->text[j])))
				return false;
		if (i > 0 && !put(p, ERA_SEP_LABEL))
			return false;
	}
	return true;
}

static bool
parse_handle(Parser *p, size_t b, size_t e)
{
	size_t		at = find_byte(p->text, b, e, '@');
	size_t		second = find_byte(p->text, at + 1, e, '@');
	size_t		i;

	if (second < e)
		return fail(p, FORM_HANDLE, second, "second \"@\" at position %zu",
					char_position(p->text, second));
	if (at == b)
		return fail(p, FORM_HANDLE, b, "empty name before \"@\" at position %zu",
					char_position(p->text, at));
	if (at + 1 == e)
		return fail(p, FORM_HANDLE, at, "empty domain after \"@\" at position %zu",
					char_position(p->text, at));
	for (i = b; i < at; i++)
	{
		unsigned char c = (unsigned char) p->text[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != '+' && c != '-')
			return bad_char(p, FORM_HANDLE, i);
		if (c == '.' && (i == b || i + 1 == at || p->text[i + 1] == '.'))
			return fail(p, FORM_HANDLE, i, "misplaced \".\" at position %zu (a name before \"@\" neither starts nor ends with a dot, nor has two in a row)",
						char_position(p->text, i));
	}
	if (at - b > ERA_MAX_HANDLE_LOCAL)
		return fail(p, FORM_HANDLE, b, "name of %zu characters before \"@\" (at most %d)",
					at - b, ERA_MAX_HANDLE_LOCAL);
	if (!parse_domain(p, at + 1, e, FORM_HANDLE))
		return false;
	if (!put(p, ERA_SEP_HANDLE))
		return false;
	for (i = b; i < at; i++)
		if (!put(p, to_lower((unsigned char) p->text[i])))
			return false;
	return true;
}

static bool
parse_did(Parser *p, size_t b, size_t e)
{
	size_t		m = b + 4;		/* after "did:" */
	size_t		colon = find_byte(p->text, m, e, ':');
	size_t		i;
	size_t		seg;

	if (colon == m)
		return fail(p, FORM_DID, m, "missing method name at position %zu",
					char_position(p->text, m));
	for (i = m; i < colon; i++)
		if (!is_alnum((unsigned char) p->text[i]))
			return bad_char(p, FORM_DID, i);
	if (colon == e)
		return fail(p, FORM_DID, (size_t) -1, "missing method-specific id after \"did:%.*s\"",
					(int) (colon - m), p->text + m);
	if (!put(p, ERA_FAMILY_DID))
		return false;
	for (i = m; i < colon; i++)
		if (!put(p, to_lower((unsigned char) p->text[i])))
			return false;
	seg = colon + 1;
	for (i = seg; i <= e; i++)
	{
		unsigned char c = (i < e) ? (unsigned char) p->text[i] : ':';

		if (c == ':')
		{
			if (i == seg)
				return fail(p, FORM_DID, seg, "empty id segment at position %zu",
							char_position(p->text, seg));
			if (!put(p, ERA_SEP_LABEL))
				return false;
			for (; seg < i; seg++)
				if (!put(p, (uint8_t) p->text[seg]))
					return false;
			seg = i + 1;
		}
		else if (c == '%')
		{
			if (i + 2 >= e || !is_hex((unsigned char) p->text[i + 1]) ||
				!is_hex((unsigned char) p->text[i + 2]))
				return fail(p, FORM_DID, i, "\"%%\" at position %zu is not followed by two hex digits",
							char_position(p->text, i));
			i += 2;
		}
		else if (!is_alnum(c) && c != '.' && c != '-' && c != '_')
			return bad_char(p, FORM_DID, i);
	}
	return true;
}

static bool
parse_evse(Parser *p, size_t b, size_t e)
{
	size_t		start = b;
	size_t		part = 0;
	size_t		i;

	if (!put(p, ERA_FAMILY_EVSE))
		return false;
	for (i = b; i <= e; i++)
	{
		unsigned char c = (i < e) ? (unsigned char) p->text[i] : '*';
		size_t		n = i - start;
		size_t		j;

		if (c != '*')
		{
			if (part == 0 ? !is_alpha(c) : !(is_alnum(c) || (part >= 2 && c == '-')))
				return bad_char(p, FORM_EVSE, i);
			continue;
		}
		if (n == 0)
			return fail(p, FORM_EVSE, start, "empty part at position %zu",
						char_position(p->text, start));
		if (part == 0 && n != 2)
			return fail(p, FORM_EVSE, start, "country code \"%.*s\" at position %zu is not two letters (ISO 3166)",
						(int) n, p->text + start, char_position(p->text, start));
		if (part == 1 && n != 3)
			return fail(p, FORM_EVSE, start, "operator code \"%.*s\" at position %zu is not three letters or digits (eMI3)",
						(int) n, p->text + start, char_position(p->text, start));
		if (n > ERA_MAX_NAME)
			return fail(p, FORM_EVSE, start, "part of %zu characters at position %zu (at most %d)",
						n, char_position(p->text, start), ERA_MAX_NAME);
		if (part > 0 && !put(p, ERA_SEP_LABEL))
			return false;
		for (j = start; j < i; j++)
			if (!put(p, to_upper((unsigned char) p->text[j])))
				return false;
		part++;
		start = i + 1;
	}
	if (part < 2)
		return fail(p, FORM_EVSE, (size_t) -1, "an EVSE id starts with a country code and an operator code");
	return true;
}

/* one local name in text[b, e); case is kept */
static bool
parse_local_name(Parser *p, size_t b, size_t e)
{
	size_t		i;

	if (e == b)
		return fail(p, FORM_LOCAL, b, "empty local name at position %zu",
					char_position(p->text, b));
	for (i = b; i < e; i++)
	{
		unsigned char c = (unsigned char) p->text[i];

		if (!is_alnum(c) && c != '.' && c != '_' && c != '-')
			return bad_char(p, FORM_LOCAL, i);
	}
	if (e - b > ERA_MAX_NAME)
		return fail(p, FORM_LOCAL, b, "local name of %zu characters at position %zu (at most %d)",
					e - b, char_position(p->text, b), ERA_MAX_NAME);
	if (p->text[b] == '.' && (e - b == 1 || (e - b == 2 && p->text[b + 1] == '.')))
		return fail(p, FORM_LOCAL, b, "\"%.*s\" at position %zu is not a name",
					(int) (e - b), p->text + b, char_position(p->text, b));
	for (i = b; i < e; i++)
		if (!put(p, (uint8_t) p->text[i]))
			return false;
	return true;
}

bool
era_parse(const char *text, size_t len, uint8_t *key, size_t *keylen, EraError *err)
{
	Parser		p;
	size_t		slash;
	size_t		i;
	bool		ok;

	p.text = text;
	p.len = len;
	p.key = key;
	p.keylen = 0;
	p.err = err;
	err->form = FORM_ANY;
	err->position = 0;
	err->detail[0] = '\0';

	if (len == 0)
		return fail(&p, FORM_ANY, (size_t) -1, "empty string");
	if (len > ERA_MAX_TEXT)
		return fail(&p, FORM_ANY, (size_t) -1, "%zu bytes (at most %d)", len, ERA_MAX_TEXT);

	slash = find_byte(text, 0, len, '/');
	if (slash == 0)
		return fail(&p, FORM_ANY, 0, "nothing before \"/\" at position 1");

	if (slash >= 4 && to_lower((unsigned char) text[0]) == 'd' &&
		to_lower((unsigned char) text[1]) == 'i' &&
		to_lower((unsigned char) text[2]) == 'd' && text[3] == ':')
		ok = parse_did(&p, 0, slash);
	else if (find_byte(text, 0, slash, '*') < slash)
		ok = parse_evse(&p, 0, slash);
	else if (find_byte(text, 0, slash, '@') < slash)
		ok = put(&p, ERA_FAMILY_DOMAIN) && parse_handle(&p, 0, slash);
	else if (find_byte(text, 0, slash, '.') < slash)
		ok = put(&p, ERA_FAMILY_DOMAIN) && parse_domain(&p, 0, slash, FORM_DOMAIN);
	else
		ok = put(&p, ERA_FAMILY_LOCAL) && parse_local_name(&p, 0, slash);
	if (!ok)
		return false;

	/* the local names beneath */
	i = slash;
	while (i < len)
	{
		size_t		next = find_byte(text, i + 1, len, '/');

		if (!put(&p, ERA_SEP_LOCAL) || !parse_local_name(&p, i + 1, next))
			return false;
		i = next;
	}
	*keylen = p.keylen;
	return true;
}

/* bounded writer for era_format: never writes past ERA_MAX_FORMAT */
typedef struct Out
{
	char	   *buf;
	size_t		len;
} Out;

static void
out_byte(Out *o, char c)
{
	if (o->len < ERA_MAX_FORMAT - 1)
		o->buf[o->len++] = c;
}

static void
out_bytes(Out *o, const uint8_t *s, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		out_byte(o, (char) s[i]);
}

size_t
era_format(const uint8_t *key, size_t keylen, char *out)
{
	Out			o;
	bool		sentinel = false;
	size_t		local;
	size_t		i;

	o.buf = out;
	o.len = 0;
	if (keylen > 0 && key[keylen - 1] == ERA_NAMESPACE_END)
	{
		sentinel = true;
		keylen--;
	}
	if (keylen == 0)
	{
		out[0] = '\0';
		return 0;
	}
	for (local = 1; local < keylen && key[local] != ERA_SEP_LOCAL; local++)
		;

	switch (key[0])
	{
		case ERA_FAMILY_DOMAIN:
			{
				size_t		handle;
				size_t		end;

				for (handle = 1; handle < local && key[handle] != ERA_SEP_HANDLE; handle++)
					;
				if (handle < local)
				{
					out_bytes(&o, key + handle + 1, local - handle - 1);
					out_byte(&o, '@');
				}
				/* labels from the last to the first */
				end = handle;
				while (end > 1)
				{
					size_t		start = end;

					while (start > 1 && key[start - 1] != ERA_SEP_LABEL)
						start--;
					out_bytes(&o, key + start, end - start);
					if (start > 1)
						out_byte(&o, '.');
					end = (start > 1) ? start - 1 : 1;
				}
				break;
			}
		case ERA_FAMILY_DID:
		case ERA_FAMILY_EVSE:
			if (key[0] == ERA_FAMILY_DID)
				out_bytes(&o, (const uint8_t *) "did:", 4);
			for (i = 1; i < local; i++)
				out_byte(&o, key[i] == ERA_SEP_LABEL ? (key[0] == ERA_FAMILY_DID ? ':' : '*') : (char) key[i]);
			break;
		default:
			out_bytes(&o, key + 1, local - 1);
			break;
	}
	for (i = local; i < keylen; i++)
		out_byte(&o, key[i] == ERA_SEP_LOCAL ? '/' : (char) key[i]);
	if (sentinel)
	{
		out_byte(&o, '/');
		out_byte(&o, '*');
	}
	out[o.len] = '\0';
	return o.len;
}

bool
era_key_valid(const uint8_t *key, size_t keylen)
{
	char		text[ERA_MAX_FORMAT];
	uint8_t		again[ERA_MAX_KEY];
	size_t		againlen;
	size_t		textlen;
	EraError	err;

	if (keylen == 0 || keylen > ERA_MAX_KEY)
		return false;
	textlen = era_format(key, keylen, text);
	return era_parse(text, textlen, again, &againlen, &err) &&
		againlen == keylen && memcmp(again, key, keylen) == 0;
}

int
era_compare(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c < 0 ? -1 : 1;
	return (alen > blen) - (alen < blen);
}

EraKind
era_kind(const uint8_t *key, size_t keylen)
{
	if (keylen == 0 || key[0] == ERA_FAMILY_LOCAL || memchr(key, ERA_SEP_LOCAL, keylen))
		return ERA_KIND_LOCAL;
	switch (key[0])
	{
		case ERA_FAMILY_DOMAIN:
			return memchr(key, ERA_SEP_HANDLE, keylen) ? ERA_KIND_HANDLE : ERA_KIND_DOMAIN;
		case ERA_FAMILY_DID:
			return ERA_KIND_DID;
		default:
			return ERA_KIND_EVSE;
	}
}

const char *
era_kind_name(EraKind kind)
{
	switch (kind)
	{
		case ERA_KIND_DOMAIN:
			return "domain";
		case ERA_KIND_HANDLE:
			return "handle";
		case ERA_KIND_DID:
			return "did";
		case ERA_KIND_EVSE:
			return "evse";
		case ERA_KIND_LOCAL:
			break;
	}
	return "local";
}

bool
era_is_local(const uint8_t *key, size_t keylen)
{
	return era_kind(key, keylen) == ERA_KIND_LOCAL;
}

size_t
era_parent_len(const uint8_t *key, size_t keylen)
{
	size_t		i = keylen;

	while (i > 1 && !is_sep(key[i - 1]))
		i--;
	if (i <= 1)
		return 0;				/* no separator: a top-level address */
	i--;						/* key[i] is the last separator */
	if (key[0] == ERA_FAMILY_LOCAL)
		return i;
	/* other families need two components before a prefix is an address */
	return memchr(key + 1, ERA_SEP_LABEL, i - 1) || memchr(key + 1, ERA_SEP_HANDLE, i - 1) ||
		memchr(key + 1, ERA_SEP_LOCAL, i - 1) ? i : 0;
}

size_t
era_root_len(const uint8_t *key, size_t keylen)
{
	size_t		i = 1;
	size_t		seps = (key[0] == ERA_FAMILY_LOCAL) ? 1 : 0;

	for (; i < keylen; i++)
		if (is_sep(key[i]) && ++seps == 2)
			return i;
	return keylen;
}

size_t
era_global_len(const uint8_t *key, size_t keylen)
{
	const uint8_t *local;

	if (keylen == 0 || key[0] == ERA_FAMILY_LOCAL)
		return 0;
	local = memchr(key, ERA_SEP_LOCAL, keylen);
	return local ? (size_t) (local - key) : keylen;
}

int
era_depth(const uint8_t *key, size_t keylen)
{
	int			depth = (keylen > 0 && key[0] == ERA_FAMILY_LOCAL) ? 1 : 0;
	size_t		i;

	for (i = 1; i < keylen; i++)
		if (is_sep(key[i]))
			depth++;
	return depth;
}

bool
era_contains(const uint8_t *outer, size_t outerlen,
			 const uint8_t *inner, size_t innerlen)
{
	return outerlen <= innerlen && memcmp(outer, inner, outerlen) == 0 &&
		(innerlen == outerlen || is_sep(inner[outerlen]));
}

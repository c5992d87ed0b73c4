/* SPDX-License-Identifier: GPL-2.0-or-later */
/* nmea.c - see nmea.h. */
#include "nmea.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "timeutil.h"

#define QUEUE_LEN 32
#define MAX_FIELDS 24
#define DEFAULT_BURST_GAP_NS (20 * TU_NS_PER_MS)
#define DAY_NS (TU_SEC_PER_DAY * TU_NS_PER_SEC)
#define HOUR_NS (INT64_C(3600) * TU_NS_PER_SEC)
#define CARRY_LIMIT_NS (12 * HOUR_NS)
#define ROLLOVER_NS (TU_GPS_ROLLOVER_SEC * TU_NS_PER_SEC)
/* Years a receiver date may name; keeps every time within int64_t ns. */
#define YEAR_MIN 1970
#define YEAR_MAX 2200

/* One decoded time-bearing sentence. */
struct time_sentence {
	unsigned kind;
	char talker[3];
	int64_t tod_ns;     /* since 00:00:00; 86400 s and up for hh:59:60 */
	int date_rank;      /* 0 no date, 1 RMC (2-digit year), 2 ZDA */
	int64_t days;       /* since 1970-01-01, as sent (before repair) */
	bool no_fix;
};

/* The epoch being collected. */
struct open_epoch {
	bool open;
	int64_t tod_ns;
	unsigned sentences;
	char talker[3];
	bool no_fix;
	int date_rank;
	int64_t days;
	int64_t burst_rx_ns;
	int64_t burst_rx_mono_ns;
	int64_t time_rx_ns;
};

struct nmea_decoder {
	int64_t floor_ns;
	int floor_year;
	int64_t char_ns;
	int64_t burst_gap_ns;
	struct nmea_stats stats;

	/* Framing: line[0..len) holds the sentence being received. */
	char line[NMEA_MAX_SENTENCE + 1];
	size_t len;
	size_t star;              /* index of '*', 0 while none */
	/* The chunk being fed, to date its bytes, and the receive times of
	 * the previous chunk's last byte. */
	int64_t chunk_rx_ns, chunk_mono_ns;
	size_t chunk_len;
	int64_t prev_rx_ns, prev_mono_ns;
	/* Bursts: start of this sentence, end of the previous one. */
	int64_t start_rx_ns, start_mono_ns;
	bool have_end;
	int64_t end_rx_ns, end_mono_ns;
	int64_t burst_rx_ns, burst_mono_ns;

	/* Epochs. */
	struct open_epoch cur;
	bool have_closed;
	int64_t closed_tod_ns;
	bool have_ref;            /* last date read from a sentence */
	int64_t ref_ns;
	bool ref_fixed;
	int64_t last_ns;          /* last dated epoch (read or carried) */
	struct nmea_epoch queue[QUEUE_LEN];
	unsigned q_head, q_count;
};

static const char *const kind_names[NMEA_KIND_COUNT] = {
	"RMC", "GGA", "ZDA", "GLL", "GNS",
};

const char *nmea_kind_name(unsigned kind)
{
	for (unsigned i = 0; i < NMEA_KIND_COUNT; i++) {
		if (kind == 1u << i) {
			return kind_names[i];
		}
	}
	return "?";
}

/* ---- creation ---------------------------------------------------------- */

static int64_t compiled_floor_s(void)
{
	return tu_days_from_civil(GPSPPS_ROLLOVER_FLOOR_Y,
				  GPSPPS_ROLLOVER_FLOOR_M,
				  GPSPPS_ROLLOVER_FLOOR_D) * TU_SEC_PER_DAY;
}

static void set_floor(struct nmea_decoder *dec, int64_t floor_s)
{
	int64_t lo = tu_days_from_civil(YEAR_MIN, 1, 1) * TU_SEC_PER_DAY;
	int64_t hi = tu_days_from_civil(YEAR_MAX, 1, 1) * TU_SEC_PER_DAY;
	int64_t year;
	int month, day;

	if (floor_s == 0) {
		floor_s = compiled_floor_s();
	}
	if (floor_s < lo) {
		floor_s = lo;
	}
	if (floor_s > hi) {
		floor_s = hi;
	}
	dec->floor_ns = floor_s * TU_NS_PER_SEC;
	tu_civil_from_days(tu_floor_div(floor_s, TU_SEC_PER_DAY),
			   &year, &month, &day);
	dec->floor_year = (int)year;
}

struct nmea_decoder *nmea_decoder_create(const struct nmea_options *opt)
{
	struct nmea_decoder *dec = calloc(1, sizeof(*dec));

	if (!dec) {
		return NULL;
	}
	set_floor(dec, opt ? opt->rollover_floor : 0);
	dec->char_ns = opt && opt->char_ns > 0 ? opt->char_ns : 0;
	dec->burst_gap_ns = opt && opt->burst_gap_ns > 0 ?
			    opt->burst_gap_ns : DEFAULT_BURST_GAP_NS;
	return dec;
}

void nmea_decoder_destroy(struct nmea_decoder *dec)
{
	free(dec);
}

const struct nmea_stats *nmea_get_stats(const struct nmea_decoder *dec)
{
	return &dec->stats;
}

/* ---- field parsing ----------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n decimal digits at s; the value in *v. */
static bool parse_digits(const char *s, size_t n, int64_t *v)
{
	int64_t x = 0;

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i])) {
			return false;
		}
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return true;
}

/* A whole field of 1..maxlen digits. */
static bool parse_uint_field(const char *s, size_t maxlen, int64_t *v)
{
	size_t n = strlen(s);

	if (n == 0 || n > maxlen) {
		return false;
	}
	return parse_digits(s, n, v);
}

/* Fraction ".ddd" (digits past the ninth are ignored) in ns. */
static bool parse_fraction(const char *s, int64_t *ns)
{
	int64_t scale = TU_NS_PER_SEC;
	int64_t v = 0;

	*ns = 0;
	if (*s == '\0') {
		return true;
	}
	if (*s++ != '.') {
		return false;
	}
	for (; *s; s++) {
		if (!is_digit(*s)) {
			return false;
		}
		if (scale > 1) {
			scale /= 10;
			v += (*s - '0') * scale;
		}
	}
	*ns = v;
	return true;
}

enum field_result { FIELD_OK, FIELD_EMPTY, FIELD_BAD };

/* hhmmss[.f...] as ns since midnight.  ss = 60 only at 23:59. */
static enum field_result parse_tod(const char *s, int64_t *tod_ns)
{
	int64_t h, m, sec, frac;

	if (*s == '\0') {
		return FIELD_EMPTY;
	}
	if (!parse_digits(s, 2, &h) || !parse_digits(s + 2, 2, &m) ||
	    !parse_digits(s + 4, 2, &sec) || !parse_fraction(s + 6, &frac)) {
		return FIELD_BAD;
	}
	if (h > 23 || m > 59 || sec > 60 || (sec == 60 && (h != 23 || m != 59))) {
		return FIELD_BAD;
	}
	*tod_ns = ((h * 60 + m) * 60 + sec) * TU_NS_PER_SEC + frac;
	return FIELD_OK;
}

static enum field_result make_date(int64_t y, int64_t m, int64_t d,
				   int64_t *days)
{
	if (y < YEAR_MIN || y > YEAR_MAX || !tu_date_valid(y, (int)m, (int)d)) {
		return FIELD_BAD;
	}
	*days = tu_days_from_civil(y, (int)m, (int)d);
	return FIELD_OK;
}

/* RMC ddmmyy; the century puts the year within 50 years of the floor. */
static enum field_result parse_ddmmyy(const struct nmea_decoder *dec,
				      const char *s, int64_t *days)
{
	int64_t d, m, yy, base;

	if (*s == '\0') {
		return FIELD_EMPTY;
	}
	if (strlen(s) != 6 || !parse_digits(s, 2, &d) ||
	    !parse_digits(s + 2, 2, &m) || !parse_digits(s + 4, 2, &yy)) {
		return FIELD_BAD;
	}
	base = dec->floor_year - 50;
	return make_date(base + tu_floor_mod(yy - base, 100), m, d, days);
}

/* ZDA dd,mm,yyyy. */
static enum field_result parse_zda_date(const char *sd, const char *sm,
					const char *sy, int64_t *days)
{
	int64_t d, m, y;

	if (*sd == '\0' && *sm == '\0' && *sy == '\0') {
		return FIELD_EMPTY;
	}
	if (!parse_uint_field(sd, 2, &d) || !parse_uint_field(sm, 2, &m) ||
	    strlen(sy) != 4 || !parse_digits(sy, 4, &y)) {
		return FIELD_BAD;
	}
	return make_date(y, m, d, days);
}

/* ---- sentence decoding ------------------------------------------------- */

struct fields {
	char buf[NMEA_MAX_SENTENCE + 1];
	const char *f[MAX_FIELDS];
	size_t n;
};

/* Split "$TTSSS,a,b*hh" (without the '*hh') at commas.  Missing fields
 * read as empty strings. */
static void split_fields(struct fields *fl, const char *body, size_t len)
{
	char *p = fl->buf;

	memcpy(fl->buf, body, len);
	fl->buf[len] = '\0';
	fl->n = 0;
	fl->f[fl->n++] = p;
	for (; *p; p++) {
		if (*p == ',' && fl->n < MAX_FIELDS) {
			*p = '\0';
			fl->f[fl->n++] = p + 1;
		}
	}
	for (size_t i = fl->n; i < MAX_FIELDS; i++) {
		fl->f[i] = "";
	}
}

static bool is_no_fix_status(const char *status, const char *mode)
{
	return strcmp(status, "A") != 0 || mode[0] == 'N';
}

/* GNS mode: one character per constellation; all 'N' (or none) = no fix. */
static bool gns_no_fix(const char *mode)
{
	for (; *mode; mode++) {
		if (*mode != 'N') {
			return false;
		}
	}
	return true;
}

/* Fill ts from the fields of one kind.  Returns the worst field result. */
static enum field_result decode_kind(const struct nmea_decoder *dec,
				     const struct fields *fl,
				     struct time_sentence *ts)
{
	const char *const *f = fl->f;
	enum field_result tr, dr = FIELD_EMPTY;

	switch (ts->kind) {
	case NMEA_RMC:
		tr = parse_tod(f[1], &ts->tod_ns);
		dr = parse_ddmmyy(dec, f[9], &ts->days);
		ts->date_rank = 1;
		ts->no_fix = is_no_fix_status(f[2], f[12]);
		break;
	case NMEA_ZDA:
		tr = parse_tod(f[1], &ts->tod_ns);
		dr = parse_zda_date(f[2], f[3], f[4], &ts->days);
		ts->date_rank = 2;
		break;
	case NMEA_GGA:
		tr = parse_tod(f[1], &ts->tod_ns);
		ts->no_fix = f[6][0] == '\0' || strcmp(f[6], "0") == 0;
		break;
	case NMEA_GLL:
		tr = parse_tod(f[5], &ts->tod_ns);
		ts->no_fix = is_no_fix_status(f[6], f[7]);
		break;
	default: /* NMEA_GNS */
		tr = parse_tod(f[1], &ts->tod_ns);
		ts->no_fix = gns_no_fix(f[6]);
		break;
	}
	if (dr != FIELD_OK) {
		ts->date_rank = 0;
	}
	if (tr != FIELD_OK) {
		return tr;
	}
	return dr == FIELD_BAD ? FIELD_BAD : FIELD_OK;
}

/* The kind bit of a standard sentence address "TTSSS", else 0. */
static unsigned address_kind(const char *addr)
{
	if (strlen(addr) != 5 || addr[0] == 'P') {
		return 0;
	}
	for (int i = 0; i < 2; i++) {
		if (addr[i] < 'A' || addr[i] > 'Z') {
			return 0;
		}
	}
	for (unsigned i = 0; i < NMEA_KIND_COUNT; i++) {
		if (memcmp(addr + 2, kind_names[i], 3) == 0) {
			return 1u << i;
		}
	}
	return 0;
}

static void epoch_add(struct nmea_decoder *dec, const struct time_sentence *ts);

/* Type of the address at a (n bytes): see struct nmea_type_count.
 * Returns false when it has none. */
static bool address_type(const char *a, size_t n, char *name)
{
	size_t i, skip = a[0] == 'P' ? 0 : 2;

	if (n < 3 || n >= NMEA_TYPE_NAME_MAX) {
		return false;
	}
	for (i = 0; i < n; i++) {
		if (!(a[i] >= 'A' && a[i] <= 'Z') && !is_digit(a[i])) {
			return false;
		}
	}
	memcpy(name, a + skip, n - skip);
	name[n - skip] = '\0';
	return true;
}

static void count_type(struct nmea_decoder *dec)
{
	const char *a = dec->line + 1;
	const char *comma = memchr(a, ',', dec->star - 1);
	size_t n = comma != NULL ? (size_t)(comma - a) : dec->star - 1;
	char name[NMEA_TYPE_NAME_MAX];
	struct nmea_type_count *t = dec->stats.types;
	int i;

	if (!address_type(a, n, name)) {
		dec->stats.types_other++;
		return;
	}
	for (i = 0; i < NMEA_TYPE_SLOTS && t[i].name[0] != '\0'; i++) {
		if (strcmp(t[i].name, name) == 0) {
			t[i].count++;
			return;
		}
	}
	if (i == NMEA_TYPE_SLOTS) {
		dec->stats.types_other++;
		return;
	}
	memcpy(t[i].name, name, strlen(name) + 1);
	t[i].count = 1;
}

/* A checked sentence "$...*hh": body is line[1..star). */
static void handle_sentence(struct nmea_decoder *dec)
{
	struct fields fl;
	struct time_sentence ts;
	enum field_result r;

	dec->stats.sentences++;
	count_type(dec);
	if (dec->line[0] != '$') {
		return;
	}
	split_fields(&fl, dec->line + 1, dec->star - 1);
	memset(&ts, 0, sizeof(ts));
	ts.kind = address_kind(fl.f[0]);
	if (ts.kind == 0) {
		return;
	}
	memcpy(ts.talker, fl.f[0], 2);
	r = decode_kind(dec, &fl, &ts);
	if (r == FIELD_EMPTY) {
		dec->stats.no_time++;
		return;
	}
	if (r == FIELD_BAD) {
		dec->stats.bad_fields++;
		return;
	}
	epoch_add(dec, &ts);
}

/* ---- epochs ------------------------------------------------------------ */

static void queue_push(struct nmea_decoder *dec, const struct nmea_epoch *ep)
{
	if (dec->q_count == QUEUE_LEN) {
		dec->q_head = (dec->q_head + 1) % QUEUE_LEN;
		dec->q_count--;
		dec->stats.queue_overflow++;
	}
	dec->queue[(dec->q_head + dec->q_count) % QUEUE_LEN] = *ep;
	dec->q_count++;
}

bool nmea_next_epoch(struct nmea_decoder *dec, struct nmea_epoch *out)
{
	if (dec->q_count == 0) {
		return false;
	}
	*out = dec->queue[dec->q_head];
	dec->q_head = (dec->q_head + 1) % QUEUE_LEN;
	dec->q_count--;
	return true;
}

/* A date read from an RMC/ZDA, moved past the rollover floor, becomes the
 * reference that time-only sentences are dated from.  Returns the time. */
static int64_t date_reference(struct nmea_decoder *dec, int64_t days,
			      int64_t tod_ns)
{
	int64_t t = days * DAY_NS + tod_ns;
	bool fixed = false;

	while (t < dec->floor_ns) {
		t += ROLLOVER_NS;
		fixed = true;
	}
	dec->have_ref = true;
	dec->ref_ns = t;
	dec->ref_fixed = fixed;
	dec->last_ns = t;
	return t;
}

/* Date from the epoch's own RMC/ZDA. */
static void date_from_sentence(struct nmea_decoder *dec,
			       struct nmea_epoch *ep)
{
	ep->time_ns = date_reference(dec, dec->cur.days, dec->cur.tod_ns);
	ep->date_known = true;
	ep->rollover_fixed = dec->ref_fixed;
}

/* Date carried from the previous dated epoch: the day that puts the time
 * of day nearest to it, so 00:00:00 after 23:59:59 is on the next day. */
static void date_carried(struct nmea_decoder *dec, struct nmea_epoch *ep)
{
	int64_t base = tu_floor_div(dec->last_ns, DAY_NS);
	int64_t best = 0, best_dist = INT64_MAX;

	for (int k = -1; k <= 1; k++) {
		int64_t t = (base + k) * DAY_NS + dec->cur.tod_ns;
		int64_t dist = t >= dec->last_ns ? t - dec->last_ns :
			       dec->last_ns - t;

		if (dist < best_dist) {
			best = t;
			best_dist = dist;
		}
	}
	if (best - dec->ref_ns > CARRY_LIMIT_NS ||
	    dec->ref_ns - best > CARRY_LIMIT_NS) {
		return;
	}
	ep->time_ns = best;
	ep->date_known = true;
	ep->rollover_fixed = dec->ref_fixed;
	dec->last_ns = best;
}

static void close_epoch(struct nmea_decoder *dec)
{
	struct open_epoch *c = &dec->cur;
	struct nmea_epoch ep = {
		.time_ns = c->tod_ns,
		.leap_second = c->tod_ns >= DAY_NS,
		.valid = !c->no_fix,
		.sentences = c->sentences,
		.burst_rx_ns = c->burst_rx_ns,
		.burst_rx_mono_ns = c->burst_rx_mono_ns,
		.time_rx_ns = c->time_rx_ns,
	};

	memcpy(ep.talker, c->talker, sizeof(ep.talker));
	if (c->date_rank > 0) {
		date_from_sentence(dec, &ep);
	} else if (dec->have_ref) {
		date_carried(dec, &ep);
	}
	if (ep.rollover_fixed) {
		dec->stats.rollover_fixed++;
	}
	dec->stats.epochs++;
	dec->have_closed = true;
	dec->closed_tod_ns = c->tod_ns;
	c->open = false;
	queue_push(dec, &ep);
}

static void epoch_open(struct nmea_decoder *dec, const struct time_sentence *ts)
{
	struct open_epoch *c = &dec->cur;

	memset(c, 0, sizeof(*c));
	c->open = true;
	c->tod_ns = ts->tod_ns;
	memcpy(c->talker, ts->talker, sizeof(c->talker));
	c->burst_rx_ns = dec->burst_rx_ns;
	c->burst_rx_mono_ns = dec->burst_mono_ns;
	c->time_rx_ns = dec->start_rx_ns;
}

static void epoch_merge(struct open_epoch *c, const struct time_sentence *ts)
{
	c->sentences |= ts->kind;
	c->no_fix = c->no_fix || ts->no_fix;
	if (ts->date_rank > c->date_rank) {
		c->date_rank = ts->date_rank;
		c->days = ts->days;
	}
}

static void epoch_add(struct nmea_decoder *dec, const struct time_sentence *ts)
{
	if (!(dec->cur.open && dec->cur.tod_ns == ts->tod_ns)) {
		if (dec->have_closed && dec->closed_tod_ns == ts->tod_ns) {
			/* Its epoch was closed (idle flush) before it came,
			 * but its date still dates the epochs that follow:
			 * a receiver that sends RMC long after GGA must not
			 * stay undated for ever. */
			dec->stats.late++;
			if (ts->date_rank > 0) {
				date_reference(dec, ts->days, ts->tod_ns);
			}
			return;
		}
		if (dec->cur.open) {
			close_epoch(dec);
		}
		epoch_open(dec, ts);
	}
	epoch_merge(&dec->cur, ts);
}

void nmea_set_char_ns(struct nmea_decoder *dec, int64_t char_ns)
{
	dec->char_ns = char_ns > 0 ? char_ns : 0;
}

void nmea_flush(struct nmea_decoder *dec)
{
	if (dec->cur.open) {
		close_epoch(dec);
	}
}

/* ---- framing ----------------------------------------------------------- */

static int hex_value(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	if (c >= 'A' && c <= 'F') {
		return c - 'A' + 10;
	}
	if (c >= 'a' && c <= 'f') {
		return c - 'a' + 10;
	}
	return -1;
}

/* XOR of the bytes between the start character and '*' against the two
 * hex digits after it. */
static bool checksum_ok(const struct nmea_decoder *dec)
{
	int hi = hex_value(dec->line[dec->star + 1]);
	int lo = hex_value(dec->line[dec->star + 2]);
	unsigned sum = 0;

	if (hi < 0 || lo < 0) {
		return false;
	}
	for (size_t i = 1; i < dec->star; i++) {
		sum ^= (unsigned char)dec->line[i];
	}
	return sum == (unsigned)(hi * 16 + lo);
}

/* t dated back by `back`, but not before prev (the previous chunk's last
 * byte), unless t itself is: a burst of reads (USB adapters) must not date
 * bytes out of order, and a stepped clock must not date them ahead. */
static int64_t date_back(int64_t t, int64_t back, int64_t prev)
{
	int64_t floor_t = prev < t ? prev : t;

	if (t == 0) {
		return 0;
	}
	return t - back > floor_t ? t - back : floor_t;
}

/* Receive times of byte i of the chunk being fed.  Dating back assumes
 * the chunk arrived at the line rate just before the read; a chunk larger
 * than a UART FIFO's worth was queued, not received at the line rate (or
 * came from a USB device with no line at all), and dating it back further
 * could put a burst before its own pulse: a wrong second.  So no byte is
 * dated back by more than NMEA_MAX_BACKDATE_CHARS characters. */
static void byte_time(const struct nmea_decoder *dec, size_t i,
		      int64_t *rx_ns, int64_t *mono_ns)
{
	size_t chars = dec->chunk_len - 1 - i;
	int64_t back;

	if (chars > NMEA_MAX_BACKDATE_CHARS) {
		chars = NMEA_MAX_BACKDATE_CHARS;
	}
	back = (int64_t)chars * dec->char_ns;

	*rx_ns = date_back(dec->chunk_rx_ns, back, dec->prev_rx_ns);
	*mono_ns = date_back(dec->chunk_mono_ns, back, dec->prev_mono_ns);
}

/* The current sentence ends (good or bad), its last byte received at
 * rx_ns / mono_ns. */
static void end_sentence_at(struct nmea_decoder *dec, bool good,
			    int64_t rx_ns, int64_t mono_ns)
{
	if (!good) {
		dec->stats.dropped_bytes += dec->len;
	}
	dec->end_rx_ns = rx_ns;
	dec->end_mono_ns = mono_ns;
	dec->have_end = true;
	dec->len = 0;
	dec->star = 0;
}

/* The current sentence ends (good or bad) at chunk byte i. */
static void end_sentence(struct nmea_decoder *dec, size_t i, bool good)
{
	int64_t rx_ns, mono_ns;

	byte_time(dec, i, &rx_ns, &mono_ns);
	end_sentence_at(dec, good, rx_ns, mono_ns);
}

/* The current sentence is cut by the start character at chunk byte i: it
 * ended at the byte before it (the previous chunk's last byte when i is
 * 0).  Dating its end at the start character would hide the idle gap
 * before it: after a flood of '$' (or of lines cut short) the first clean
 * burst would join the flood's burst and be dated at its first byte. */
static void cut_sentence(struct nmea_decoder *dec, size_t i)
{
	int64_t rx_ns = dec->prev_rx_ns, mono_ns = dec->prev_mono_ns;

	dec->stats.bad_checksum++;
	if (i > 0) {
		byte_time(dec, i - 1, &rx_ns, &mono_ns);
	}
	end_sentence_at(dec, false, rx_ns, mono_ns);
}

static void bad_sentence(struct nmea_decoder *dec, size_t i)
{
	dec->stats.bad_checksum++;
	end_sentence(dec, i, false);
}

/* A gap is measured on CLOCK_MONOTONIC_RAW when the caller gives it. */
static bool starts_burst(const struct nmea_decoder *dec)
{
	if (!dec->have_end) {
		return true;
	}
	if (dec->start_mono_ns != 0 || dec->end_mono_ns != 0) {
		return dec->start_mono_ns - dec->end_mono_ns >=
		       dec->burst_gap_ns;
	}
	return dec->start_rx_ns - dec->end_rx_ns >= dec->burst_gap_ns;
}

static void start_sentence(struct nmea_decoder *dec, char c, size_t i)
{
	if (dec->len > 0) {
		/* A start character inside a sentence: the partial one had no
		 * checksum yet. */
		cut_sentence(dec, i);
	}
	byte_time(dec, i, &dec->start_rx_ns, &dec->start_mono_ns);
	if (starts_burst(dec)) {
		dec->burst_rx_ns = dec->start_rx_ns;
		dec->burst_mono_ns = dec->start_mono_ns;
	}
	dec->line[0] = c;
	dec->len = 1;
	dec->star = 0;
}

/* Byte c (printable, not a start character) inside a sentence. */
static void sentence_byte(struct nmea_decoder *dec, char c, size_t i)
{
	if (dec->len >= NMEA_MAX_SENTENCE) {
		dec->stats.overlong++;
		dec->stats.dropped_bytes++;
		end_sentence(dec, i, false);
		return;
	}
	dec->line[dec->len] = c;
	if (c == '*' && dec->star == 0) {
		dec->star = dec->len;
	}
	dec->len++;
	if (dec->star == 0 || dec->len < dec->star + 3) {
		return;
	}
	if (!checksum_ok(dec)) {
		bad_sentence(dec, i);
		return;
	}
	dec->line[dec->len] = '\0';
	handle_sentence(dec);
	end_sentence(dec, i, true);
}

static void feed_byte(struct nmea_decoder *dec, unsigned char c, size_t i)
{
	bool in_sentence = dec->len > 0;

	if (c == '$' || c == '!') {
		start_sentence(dec, (char)c, i);
	} else if (c == '\r' || c == '\n') {
		/* Line ends are not counted as dropped; one cutting a
		 * sentence before its checksum makes it unusable. */
		if (in_sentence) {
			bad_sentence(dec, i);
		}
	} else if (c < 0x20 || c > 0x7e) {
		dec->stats.binary_bytes++;
		dec->stats.dropped_bytes++;
		if (in_sentence) {
			end_sentence(dec, i, false);
		}
	} else if (in_sentence) {
		sentence_byte(dec, (char)c, i);
	} else {
		dec->stats.dropped_bytes++;
	}
}

void nmea_feed(struct nmea_decoder *dec, const void *buf, size_t len,
	       int64_t rx_ns, int64_t rx_mono_ns)
{
	const unsigned char *p = buf;

	dec->chunk_rx_ns = rx_ns;
	dec->chunk_mono_ns = rx_mono_ns;
	dec->chunk_len = len;
	dec->stats.bytes += len;
	for (size_t i = 0; i < len; i++) {
		feed_byte(dec, p[i], i);
	}
	if (len > 0) {
		dec->prev_rx_ns = rx_ns;
		dec->prev_mono_ns = rx_mono_ns;
	}
}

// Unit tests for cmodules/mfa/mfa_multipart.c (run by ctest, built with ASan + UBSan).
//
// Every slice fed to the reader is copied to the end of a page followed by a PROT_NONE page,
// so reading one byte past it crashes. Every case is fed whole, split in two at every byte, one
// byte at a time and 7 at a time; the trace (events with adjacent data merged, the error, what
// finish said) must be the expected one every time.

#include "check.h"
#include "mfa_multipart.h"

// ---- traces ------------------------------------------------------------------------------------

#define TRACE_MAX (20000)

typedef struct _trace_t {
    char s[TRACE_MAX];
    size_t len;
    int in_data;            // the last thing put was data (the next data merges into it)
} trace_t;

static void put_str(trace_t *t, const char *s, size_t n) {
    if (t->len + n < TRACE_MAX) {
        memcpy(t->s + t->len, s, n);
        t->len += n;
        t->s[t->len] = 0;
    }
}

// Printable ASCII as it is (but '\\'), the rest as \xHH.
static void put_bytes(trace_t *t, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        char b[8];
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            b[0] = (char)p[i];
            put_str(t, b, 1);
        } else {
            snprintf(b, sizeof(b), "\\x%02x", p[i]);
            put_str(t, b, 4);
        }
    }
}

static void put_cstr(trace_t *t, const char *s) {
    put_str(t, s, strlen(s));
}

static void trace_error(trace_t *t, const mfa_mp_t *p, mfa_mp_err_t err) {
    char msg[100];
    mfa_mp_error_text(p, err, msg, sizeof(msg));
    char b[120];
    snprintf(b, sizeof(b), "!%u %s;", mfa_mp_err_status(err), msg);
    put_cstr(t, b);
}

static void trace_event(trace_t *t, mfa_mp_t *p, mfa_mp_event_t *ev) {
    if (ev->type == MFA_MP_EV_DATA) {
        if (!t->in_data) {
            put_cstr(t, "D:");
            t->in_data = 1;
        }
        put_bytes(t, ev->data, ev->len);
        return;
    }
    if (t->in_data) {
        put_cstr(t, ";");
        t->in_data = 0;
    }
    switch (ev->type) {
        case MFA_MP_EV_PART: {
            size_t pos = 0;
            mfa_mp_header_t h;
            const char *sep = "";
            put_cstr(t, "[");
            while (mfa_mp_header_next(p, &pos, &h)) {
                put_cstr(t, sep);
                put_bytes(t, h.name, h.name_len);
                put_cstr(t, "=");
                put_bytes(t, h.value, h.value_len);
                sep = ",";
            }
            put_cstr(t, "]");
            mfa_mp_part_unescape(p, ev);
            put_bytes(t, ev->name, ev->name_len);
            put_cstr(t, "|");
            if (ev->filename) {
                put_bytes(t, ev->filename, ev->filename_len);
            } else {
                put_cstr(t, "-");
            }
            put_cstr(t, "|");
            if (ev->content_type) {
                put_bytes(t, ev->content_type, ev->content_type_len);
            } else {
                put_cstr(t, "-");
            }
            put_cstr(t, ";");
            break;
        }
        case MFA_MP_EV_PART_END:
            put_cstr(t, "E;");
            break;
        case MFA_MP_EV_END:
            put_cstr(t, "Z;");
            break;
        case MFA_MP_EV_ERROR:
            trace_error(t, p, ev->error);
            break;
        default:
            put_cstr(t, "?;");
    }
}

// Feed p[0..n) as one slice, looping over events as a caller does. False once the reader has
// reported an error.
static bool feed_slice(mfa_mp_t *p, const uint8_t *s, size_t n, trace_t *t) {
    const uint8_t *g = guarded(s, n);
    size_t off = 0;
    for (;;) {
        mfa_mp_event_t ev;
        size_t k = mfa_mp_feed(p, g + off, n - off, &ev);
        if (k > n - off) {
            CHECK(0, "feed consumed %zu of %zu", k, n - off);
            return false;
        }
        if (ev.type == MFA_MP_EV_DATA) {
            CHECK(ev.len > 0, "zero-length data");
            bool in_slice = ev.data >= g + off && ev.data + ev.len <= g + off + k;
            bool held = ev.data == p->delim && ev.len < p->dlen;
            CHECK(in_slice || held, "data neither in the slice nor held back");
        }
        off += k;
        if (ev.type == MFA_MP_EV_NONE) {
            CHECK(off == n, "no event but %zu bytes left", n - off);
            return true;
        }
        trace_event(t, p, &ev);
        if (ev.type == MFA_MP_EV_ERROR) {
            return false;
        }
    }
}

typedef struct _mp_case_t {
    const char *name;
    const char *boundary;
    const char *body;
    size_t len;                 // 0: strlen(body)
    size_t max_parts;           // 0: 64
    size_t max_header;          // 0: 1024
    const char *expect;
} mp_case_t;

static uint8_t hbuf[4096];
static trace_t t_whole, t_other;

// Feed in slices of at most `step` bytes, except that with split > 0 the first slice is
// data[0..split) and the rest goes whole; then finish.
static void run(const mp_case_t *c, const uint8_t *data, size_t n, size_t split, size_t step,
    trace_t *t) {
    mfa_mp_t p;
    t->len = 0;
    t->s[0] = 0;
    t->in_data = 0;
    size_t max_parts = c->max_parts ? c->max_parts : 64;
    if (max_parts == (size_t)-1) {
        max_parts = 0;
    }
    size_t max_header = c->max_header ? c->max_header : 1024;
    mfa_mp_err_t e = mfa_mp_init(&p, (const uint8_t *)c->boundary, strlen(c->boundary), hbuf,
        max_header, max_parts);
    if (e != MFA_MP_E_OK) {
        trace_error(t, &p, e);
        mfa_mp_event_t ev;
        CHECK(mfa_mp_feed(&p, data, n, &ev) == 0 && ev.type == MFA_MP_EV_ERROR
            && ev.error == e, "%s: init error not sticky", c->name);
        return;
    }
    bool ok = true;
    if (split > 0) {
        ok = feed_slice(&p, data, split, t) && feed_slice(&p, data + split, n - split, t);
    } else {
        size_t off = 0;
        do {
            size_t k = n - off < step ? n - off : step;
            if (!feed_slice(&p, data + off, k, t)) {
                ok = false;
                break;
            }
            off += k;
        } while (off < n);
    }
    if (t->in_data) {
        put_cstr(t, ";");
        t->in_data = 0;
    }
    mfa_mp_err_t f = mfa_mp_finish(&p);
    if (ok) {
        if (f == MFA_MP_E_OK) {
            put_cstr(t, "F;");
        } else {
            trace_error(t, &p, f);
        }
    } else {
        // Sticky: finish and another feed report the error of the feed, consuming nothing.
        mfa_mp_event_t ev;
        CHECK(f == p.error && f != MFA_MP_E_OK, "%s: finish after an error", c->name);
        CHECK(mfa_mp_feed(&p, (const uint8_t *)"x", 1, &ev) == 0 && ev.type == MFA_MP_EV_ERROR
            && ev.error == f, "%s: error not sticky", c->name);
    }
    CHECK(mfa_mp_finish(&p) == f, "%s: finish not sticky", c->name);
}

static void check_case(const mp_case_t *c) {
    const uint8_t *data = (const uint8_t *)c->body;
    size_t n = c->len ? c->len : strlen(c->body);
    run(c, data, n, 0, n ? n : 1, &t_whole);
    CHECK(strcmp(t_whole.s, c->expect) == 0, "%s: got   %s\n   expected %s", c->name,
        t_whole.s, c->expect);
    for (size_t i = 1; i < n; ++i) {
        run(c, data, n, i, 0, &t_other);
        CHECK(strcmp(t_whole.s, t_other.s) == 0, "%s split at %zu: %s vs whole %s", c->name, i,
            t_other.s, t_whole.s);
    }
    static const size_t steps[] = { 1, 2, 3, 7, 64 };
    for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); ++k) {
        run(c, data, n, 0, steps[k], &t_other);
        CHECK(strcmp(t_whole.s, t_other.s) == 0, "%s by %zu: %s vs whole %s", c->name,
            steps[k], t_other.s, t_whole.s);
    }
}

#define CD "Content-Disposition: form-data; name="
#define CDA "[content-disposition=form-data; name=\"a\"]a|-|-;"
#define PART_A "--b\r\n" CD "\"a\"\r\n\r\n"

static const mp_case_t cases[] = {
    // Shapes.
    { "one field", "b", PART_A "hello\r\n--b--\r\n", 0, 0, 0, CDA "D:hello;E;Z;F;" },
    { "two fields", "b", PART_A "1\r\n--b\r\n" CD "b\r\n\r\n2\r\n--b--", 0, 0, 0,
      CDA "D:1;E;[content-disposition=form-data; name=b]b|-|-;D:2;E;Z;F;" },
    { "empty content", "b", PART_A "\r\n--b--", 0, 0, 0, CDA "E;Z;F;" },
    { "no parts", "b", "--b--", 0, 0, 0, "Z;F;" },
    { "no parts, CRLF first", "b", "\r\n--b--\r\n", 0, 0, 0, "Z;F;" },
    { "CRLF before the first boundary", "b", "\r\n" PART_A "x\r\n--b--", 0, 0, 0,
      CDA "D:x;E;Z;F;" },
    { "epilogue ignored", "b", PART_A "x\r\n--b--garbage\r\n--b\r\nmore", 0, 0, 0,
      CDA "D:x;E;Z;F;" },
    { "transport padding", "b", "--b \t \r\n" CD "a\r\n\r\nx\r\n--b\t\r\n" CD "c\r\n\r\ny"
      "\r\n--b--", 0, 0, 0,
      "[content-disposition=form-data; name=a]a|-|-;D:x;E;[content-disposition=form-data; "
      "name=c]c|-|-;D:y;E;Z;F;" },
    { "file part (curl)", "------------------------d74496d66958873e",
      "--------------------------d74496d66958873e\r\n"
      "Content-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nline\r\n\r\n"
      "--------------------------d74496d66958873e--\r\n", 0, 0, 0,
      "[content-disposition=form-data; name=\"file\"; filename=\"a.txt\",content-type=text/plain]"
      "file|a.txt|text/plain;D:line\\x0d\\x0a;E;Z;F;" },
    // Content that looks like a delimiter but is not one.
    { "content with CR LF and dashes", "bnd", "--bnd\r\n" CD "a\r\n\r\n\r\n--\r\n-\r\r\n\n--bn"
      "\r\n--b\r\r\n--bnd--", 0, 0, 0,
      "[content-disposition=form-data; name=a]a|-|-;D:\\x0d\\x0a--\\x0d\\x0a-\\x0d\\x0d\\x0a"
      "\\x0a--bn\\x0d\\x0a--b\\x0d;E;Z;F;" },
    { "boundary without CRLF before it", "bnd", "--bnd\r\n" CD "a\r\n\r\n--bnd\n--bnd\r--bnd"
      "\r\n--bnd--", 0, 0, 0,
      "[content-disposition=form-data; name=a]a|-|-;D:--bnd\\x0a--bnd\\x0d--bnd;E;Z;F;" },
    { "NUL and high bytes", "b", PART_A "\x00\xff\x80\r\x00\r\n--b--", 49 + 12, 0, 0,
      CDA "D:\\x00\\xff\\x80\\x0d\\x00;E;Z;F;" },
    // Content-Disposition parameters.
    { "quoted escapes", "b", "--b\r\n" CD "\"a\\\"q\\\\b\\c\"; filename=\"C:\\\\x\\y.txt\""
      "\r\n\r\n\r\n--b--", 0, 0, 0,
      "[content-disposition=form-data; name=\"a\\x5c\"q\\x5c\\x5cb\\x5cc\"; filename=\"C:\\x5c"
      "\\x5cx\\x5cy.txt\"]a\"q\\x5cb\\x5cc|C:\\x5cx\\x5cy.txt|-;E;Z;F;" },
    { "params any case and spacing", "b", "--b\r\nCONTENT-disposition:Form-Data ;NAME = "
      "\"x;y\" ; FileName= f.txt ;;\r\nContent-Type:  image/png  \r\n\r\n\r\n--b--", 0, 0, 0,
      "[content-disposition=Form-Data ;NAME = \"x;y\" ; FileName= f.txt ;;,content-type="
      "image/png]x;y|f.txt|image/png;E;Z;F;" },
    { "empty filename and name", "b", "--b\r\n" CD "\"\"; filename=\"\"\r\n\r\n\r\n--b--", 0,
      0, 0, "[content-disposition=form-data; name=\"\"; filename=\"\"]||-;E;Z;F;" },
    { "filename* ignored", "b", "--b\r\n" CD "a; filename*=UTF-8''%e2%82%ac.txt\r\n\r\n\r\n"
      "--b--", 0, 0, 0,
      "[content-disposition=form-data; name=a; filename*=UTF-8''%e2%82%ac.txt]a|-|-;E;Z;F;" },
    { "utf-8 filename, percent kept", "b", "--b\r\n" CD "a; filename=\"\xe2\x82\xac%22.txt\""
      "\r\n\r\n\r\n--b--", 0, 0, 0,
      "[content-disposition=form-data; name=a; filename=\"\\xe2\\x82\\xac%22.txt\"]a|"
      "\\xe2\\x82\\xac%22.txt|-;E;Z;F;" },
    { "other headers kept", "b", "--b\r\nX-A: 1\r\n" CD "a\r\nX-Empty:\r\n\r\n\r\n--b--", 0, 0,
      0, "[x-a=1,content-disposition=form-data; name=a,x-empty=]a|-|-;E;Z;F;" },
    // Errors: the start and delimiters.
    { "preamble", "b", "preamble\r\n--b--", 0, 0, 0,
      "!400 multipart: body does not start with the boundary;" },
    { "wrong boundary", "b", "--c\r\n", 0, 0, 0,
      "!400 multipart: body does not start with the boundary;" },
    { "LF first", "b", "\n--b--", 0, 0, 0,
      "!400 multipart: body does not start with the boundary;" },
    { "two CRLFs first", "b", "\r\n\r\n--b--", 0, 0, 0,
      "!400 multipart: body does not start with the boundary;" },
    { "empty body", "b", "", 0, 0, 0, "!400 multipart: missing final boundary;" },
    { "delimiter then text", "b", PART_A "x\r\n--bx\r\n--b--", 0, 0, 0,
      CDA "D:x;!400 multipart: bad delimiter;" },
    { "first delimiter then text", "b", "--bb\r\n", 0, 0, 0, "!400 multipart: bad delimiter;" },
    { "one dash", "b", PART_A "x\r\n--b-\r\n", 0, 0, 0, CDA "D:x;!400 multipart: bad delimiter;" },
    { "padding then text", "b", "--b  x\r\n", 0, 0, 0, "!400 multipart: bad delimiter;" },
    { "CR without LF", "b", "--b\rx", 0, 0, 0, "!400 multipart: bad delimiter;" },
    { "LF only", "b", "--b\n", 0, 0, 0, "!400 multipart: bad delimiter;" },
    { "missing final boundary", "b", PART_A "x\r\n--b\r\n", 0, 0, 0,
      CDA "D:x;E;!400 multipart: missing final boundary;" },
    { "cut in the content", "b", PART_A "xyz\r\n--", 0, 0, 0,
      CDA "D:xyz;!400 multipart: missing final boundary;" },
    { "cut after the boundary", "b", PART_A "x\r\n--b", 0, 0, 0,
      CDA "D:x;!400 multipart: missing final boundary;" },
    { "cut in the headers", "b", "--b\r\n" CD "a", 0, 0, 0,
      "!400 multipart: missing final boundary;" },
    // Errors: headers.
    { "no headers", "b", "--b\r\n\r\nx\r\n--b--", 0, 0, 0,
      "!400 multipart: part without a Content-Disposition form-data name;" },
    { "no name", "b", "--b\r\nContent-Disposition: form-data; filename=a\r\n\r\n", 0, 0, 0,
      "!400 multipart: part without a Content-Disposition form-data name;" },
    { "not form-data", "b", "--b\r\nContent-Disposition: attachment; name=a\r\n\r\n", 0, 0, 0,
      "!400 multipart: part without a Content-Disposition form-data name;" },
    { "no Content-Disposition", "b", "--b\r\nContent-Type: text/plain\r\n\r\n", 0, 0, 0,
      "!400 multipart: part without a Content-Disposition form-data name;" },
    { "line without colon", "b", "--b\r\n" CD "a\r\nfoo\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "space before colon", "b", "--b\r\nContent-Disposition : form-data; name=a\r\n\r\n", 0,
      0, 0, "!400 multipart: bad part headers;" },
    { "empty name", "b", "--b\r\n" CD "a\r\n: x\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "obs-fold", "b", "--b\r\n" CD "a\r\nX-A: 1\r\n 2\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "bare LF in headers", "b", "--b\r\n" CD "a\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "LF-only headers", "b", "--b\r\n" CD "a\n\nx", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "bare CR in headers", "b", "--b\r\n" CD "a\rb\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "NUL in a value", "b", "--b\r\n" CD "a\r\nX: \x00\r\n\r\n", 5 + 37 + 3 + 8, 0, 0,
      "!400 multipart: bad part headers;" },
    { "control in a value", "b", "--b\r\n" CD "a\x01\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "bad UTF-8 in a value", "b", "--b\r\n" CD "\"\xc0\xaf\"\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "two Content-Dispositions", "b", "--b\r\n" CD "a\r\n" CD "b\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "two Content-Types", "b", "--b\r\n" CD "a\r\nContent-Type: a\r\ncontent-type: b\r\n\r\n",
      0, 0, 0, "!400 multipart: bad part headers;" },
    { "two names", "b", "--b\r\n" CD "a; name=b\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "two filenames", "b", "--b\r\n" CD "a; filename=x; FILENAME=y\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "unterminated quote", "b", "--b\r\n" CD "\"a\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "escaped closing quote", "b", "--b\r\n" CD "\"a\\\"\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "text after the quote", "b", "--b\r\n" CD "\"a\"b\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "quote in a token", "b", "--b\r\n" CD "a\"b\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "parameter without =", "b", "--b\r\n" CD "a; foo\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "bad parameter key", "b", "--b\r\n" CD "a; f@o=1\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    { "empty parameter key", "b", "--b\r\n" CD "a; =1\r\n\r\n", 0, 0, 0,
      "!400 multipart: bad part headers;" },
    // Limits.
    { "max_parts exactly", "b", PART_A "\r\n--b\r\n" CD "\"a\"\r\n\r\n\r\n--b--", 0, 2, 0,
      CDA "E;" CDA "E;Z;F;" },
    { "max_parts + 1", "b", PART_A "\r\n--b\r\n" CD "\"a\"\r\n\r\n\r\n--b--", 0, 1, 0,
      CDA "!413 multipart: too many parts (limit 1);" },
    { "max_parts 0", "b", PART_A, 0, (size_t)-1, 0,
      "!413 multipart: too many parts (limit 0);" },
    { "max_parts 0, no parts", "b", "--b--", 0, (size_t)-1, 0, "Z;F;" },
    { "max_header exactly", "b", PART_A "\r\n--b--", 0, 0, 44, CDA "E;Z;F;" },
    { "max_header - 1", "b", PART_A "\r\n--b--", 0, 0, 43,
      "!413 multipart: part headers too large (limit 43);" },
    { "max_header before a bad byte", "b", "--b\r\nabc\ndef", 0, 0, 3,
      "!413 multipart: part headers too large (limit 3);" },
    { "bad byte before max_header", "b", "--b\r\nab\ndef", 0, 0, 3,
      "!400 multipart: bad part headers;" },
    // Boundaries.
    { "empty boundary", "", "----\r\n", 0, 0, 0, "!400 multipart: bad boundary;" },
    { "boundary with a bad char", "a\"b", "--a\"b--", 0, 0, 0, "!400 multipart: bad boundary;" },
    { "boundary ending in space", "ab ", "--ab --", 0, 0, 0, "!400 multipart: bad boundary;" },
    { "boundary of 71", "0123456789012345678901234567890123456789012345678901234567890123456789x",
      "--", 0, 0, 0, "!400 multipart: bad boundary;" },
    { "boundary of 70 with every bchar", "'()+_,-./:=? azAZ09012345678901234567890123456789012345678901234567890",
      "--'()+_,-./:=? azAZ09012345678901234567890123456789012345678901234567890--", 0, 0, 0, "Z;F;" },
};

static void test_cases(void) {
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        check_case(&cases[i]);
    }
}

// The hold-back: a slice ending inside a possible delimiter reports the content before it
// only; what was held comes out (from the reader, not the slice) when the next slice shows it
// was content.
static void test_hold_back(void) {
    mfa_mp_t p;
    mfa_mp_event_t ev;
    CHECK(mfa_mp_init(&p, (const uint8_t *)"bound", 5, hbuf, 100, 10) == MFA_MP_E_OK, "init");
    const char *head = "--bound\r\n" CD "a\r\n\r\n";
    size_t off = 0, n = strlen(head);
    while (off < n) {
        off += mfa_mp_feed(&p, (const uint8_t *)head + off, n - off, &ev);
        if (ev.type == MFA_MP_EV_PART) {
            break;
        }
    }
    CHECK(ev.type == MFA_MP_EV_PART && off == n, "the part");
    CHECK(mfa_mp_feed(&p, NULL, 0, &ev) == 0 && ev.type == MFA_MP_EV_NONE, "nothing, in data");
    const uint8_t *s1 = (const uint8_t *)"data\r\n--bou";
    CHECK(mfa_mp_feed(&p, s1, 11, &ev) == 4 && ev.type == MFA_MP_EV_DATA && ev.data == s1
        && ev.len == 4, "content before the possible delimiter");
    CHECK(mfa_mp_feed(&p, s1 + 4, 7, &ev) == 7 && ev.type == MFA_MP_EV_NONE && p.match == 7,
        "7 bytes held");
    const uint8_t *s2 = (const uint8_t *)"nd";
    CHECK(mfa_mp_feed(&p, s2, 1, &ev) == 1 && ev.type == MFA_MP_EV_NONE && p.match == 8,
        "8 held");
    CHECK(mfa_mp_feed(&p, NULL, 0, &ev) == 0 && ev.type == MFA_MP_EV_NONE && p.match == 8,
        "nothing, while holding");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"X", 1, &ev) == 0 && ev.type == MFA_MP_EV_DATA
        && ev.data == p.delim && ev.len == 8 && memcmp(ev.data, "\r\n--boun", 8) == 0,
        "held bytes are content after all");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"X", 1, &ev) == 1 && ev.type == MFA_MP_EV_DATA
        && ev.len == 1, "the X");
    // A CR at the very end is held; a CR that cannot start a delimiter is content at once.
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"ab\rc\r", 5, &ev) == 4 && ev.len == 4, "ab\\rc");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"\r", 1, &ev) == 1 && ev.type == MFA_MP_EV_NONE
        && p.match == 1, "CR held");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"\r\n--bound--", 11, &ev) == 0
        && ev.type == MFA_MP_EV_DATA && ev.len == 1 && ev.data == p.delim, "CR released");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"\r\n--bound--", 11, &ev) == 11
        && ev.type == MFA_MP_EV_PART_END, "part end");
    CHECK(mfa_mp_feed(&p, NULL, 0, &ev) == 0 && ev.type == MFA_MP_EV_END, "end");
    CHECK(mfa_mp_feed(&p, (const uint8_t *)"xyz", 3, &ev) == 3 && ev.type == MFA_MP_EV_NONE,
        "epilogue consumed");
    CHECK(mfa_mp_finish(&p) == MFA_MP_E_OK, "finish");
}

// One large content span comes out as one DATA event (the memchr path), whatever CRs it has.
static void test_large_span(void) {
    static uint8_t body[16384];
    size_t n = 0;
    const char *head = "--XyZ\r\n" CD "f\r\n\r\n";
    memcpy(body, head, strlen(head));
    n = strlen(head);
    size_t start = n;
    for (size_t i = 0; i < 10000; ++i) {
        body[n++] = (uint8_t)((i * 7 + (i >> 3)) & 255);
    }
    size_t end = n;
    memcpy(body + n, "\r\n--XyZ--", 9);
    n += 9;
    mfa_mp_t p;
    mfa_mp_event_t ev;
    mfa_mp_init(&p, (const uint8_t *)"XyZ", 3, hbuf, 1024, 64);
    size_t off = 0;
    int datas = 0;
    size_t got = 0;
    while (off < n) {
        off += mfa_mp_feed(&p, body + off, n - off, &ev);
        if (ev.type == MFA_MP_EV_DATA) {
            ++datas;
            CHECK(memcmp(ev.data, body + start + got, ev.len) == 0, "content");
            got += ev.len;
        }
    }
    CHECK(got == end - start && datas == 1, "one span of %zu: %d events", got, datas);
}

static void test_errors_table(void) {
    mfa_mp_t p;
    CHECK(mfa_mp_err_status(MFA_MP_E_OK) == 0, "OK");
    CHECK(mfa_mp_err_status(MFA_MP_E_TOO_MANY_PARTS) == 413, "413");
    CHECK(mfa_mp_err_status(MFA_MP_E_NO_NAME) == 400, "400");
    CHECK(strcmp(mfa_mp_err_reason(MFA_MP_E__COUNT), "multipart: unknown error") == 0, "range");
    mfa_mp_init(&p, (const uint8_t *)"b", 1, hbuf, 1234, 56);
    char out[100];
    CHECK(mfa_mp_error_text(&p, MFA_MP_E_HEADER_TOO_LARGE, out, sizeof(out)) == 46
        && strcmp(out, "multipart: part headers too large (limit 1234)") == 0, "%s", out);
    CHECK(mfa_mp_error_text(&p, MFA_MP_E_TOO_MANY_PARTS, out, 20) == 19
        && strcmp(out, "multipart: too many") == 0, "cut: %s", out);
    CHECK(mfa_mp_error_text(&p, MFA_MP_E_NO_BOUNDARY, out, sizeof(out)) == 22, "no boundary");
}

int main(void) {
    guard_init(4);
    test_cases();
    test_hold_back();
    test_large_span();
    test_errors_table();
    printf("%d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

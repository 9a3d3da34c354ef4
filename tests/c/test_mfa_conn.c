// Unit tests for mfa_conn (the connection state machine) over a fake transport.
// Built with ASan + UBSan by the top-level CMakeLists.txt; run by ctest.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mfa_conn.h"

static int failures = 0, checks = 0;

#define CHECK(cond) do { \
        checks++; \
        if (!(cond)) { \
            failures++; \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
        } \
} while (0)

// ---- fake transport --------------------------------------------------------------------------

typedef struct {
    char in[1 << 16];      // bytes the client has sent, not yet read by the server
    size_t in_len;
    bool eof, reset;
    char out[1 << 17];     // bytes the server sent
    size_t out_len;
    size_t send_room;      // how much send() takes per call (SIZE_MAX: all)
    bool shut, closed, aborted;
    size_t recv_max;       // bytes recv() returns at most per call
} fake_t;

static fake_t fakes[64];
static size_t allocs, frees;
static bool alloc_fails;   // the next body allocations fail (a full heap)

static int f_recv(void *ctx, mfa_conn_t *c, uint8_t *buf, size_t n) {
    (void)ctx;
    fake_t *f = &fakes[c->handle];
    if (f->reset) {
        return MFA_IO_ERR;
    }
    if (!f->in_len) {
        return f->eof ? MFA_IO_EOF : 0;
    }
    if (n > f->in_len) {
        n = f->in_len;
    }
    if (f->recv_max && n > f->recv_max) {
        n = f->recv_max;
    }
    memcpy(buf, f->in, n);
    memmove(f->in, f->in + n, f->in_len - n);
    f->in_len -= n;
    return (int)n;
}

static int f_send(void *ctx, mfa_conn_t *c, const uint8_t *buf, size_t n, bool more) {
    (void)ctx;
    (void)more;
    fake_t *f = &fakes[c->handle];
    if (f->reset) {
        return MFA_IO_ERR;
    }
    if (n > f->send_room) {
        n = f->send_room;
    }
    if (n > sizeof(f->out) - f->out_len) {
        n = sizeof(f->out) - f->out_len;
    }
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    return (int)n;
}

static void f_shutdown(void *ctx, mfa_conn_t *c) {
    (void)ctx;
    fakes[c->handle].shut = true;
}

static void f_close(void *ctx, mfa_conn_t *c, bool abort) {
    (void)ctx;
    fakes[c->handle].closed = true;
    fakes[c->handle].aborted = abort;
}

static void *f_alloc(void *ctx, size_t n) {
    (void)ctx;
    if (alloc_fails) {
        return NULL;
    }
    allocs++;
    return malloc(n);
}

static void *f_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    (void)ctx;
    (void)old_n;
    if (alloc_fails) {
        return NULL;
    }
    return realloc(p, new_n);
}

static void f_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    frees++;
    free(p);
}

// Client-side failure events (mfa_conn_io_t.event), in order: (handle, event).
static int events[16][2];
static size_t n_events;

static void f_event(void *ctx, mfa_conn_t *c, int event) {
    (void)ctx;
    CHECK(c->state != MFA_CONN_FREE);  // reported before the connection is released
    if (n_events < 16) {
        events[n_events][0] = (int)c->handle;
        events[n_events][1] = event;
    }
    n_events++;
}

static const mfa_conn_io_t fake_io = {
    f_recv, f_send, f_shutdown, f_close, f_alloc, f_realloc, f_free, f_event, NULL,
};

#define NCONN 4
static uint8_t inbufs[NCONN][MFA_CONN_IN_BUF];
static uint8_t outbufs[NCONN][MFA_CONN_OUT_BUF];
static mfa_conn_t conns[NCONN];
static mfa_pool_t pool;
static uint32_t now;

static void setup(uint32_t max_body) {
    memset(fakes, 0, sizeof(fakes));
    allocs = frees = 0;
    alloc_fails = false;
    n_events = 0;
    for (int i = 0; i < 64; i++) {
        fakes[i].send_room = (size_t)-1;
    }
    for (int i = 0; i < NCONN; i++) {
        conns[i].in = inbufs[i];
        conns[i].out = outbufs[i];
    }
    pool.max_body = max_body;
    pool.header_timeout_ms = 1000;
    pool.body_timeout_ms = 2000;
    pool.idle_timeout_ms = 500;
    pool.min_rate = 0;
    pool.rate_grace_ms = 0;
    mfa_pool_init(&pool, conns, NCONN, &fake_io, NULL);
    now = 1000;
}

static void teardown(void) {
    mfa_pool_close_all(&pool);
    CHECK(pool.open == 0);
    CHECK(allocs == frees);
}

static mfa_conn_t *connect(uintptr_t h) {
    return mfa_pool_accept(&pool, h, now);
}

static void client_send(uintptr_t h, const char *s) {
    fake_t *f = &fakes[h];
    size_t n = strlen(s);
    memcpy(f->in + f->in_len, s, n);
    f->in_len += n;
}

// Take what the server sent on h, as a NUL-terminated string (static).
static const char *client_read(uintptr_t h) {
    static char buf[sizeof(fakes[0].out) + 1];
    fake_t *f = &fakes[h];
    memcpy(buf, f->out, f->out_len);
    buf[f->out_len] = 0;
    f->out_len = 0;
    return buf;
}

static void step(void) {
    mfa_pool_service(&pool, now);
}

static const mfa_header_t ct_json[] = { { "Content-Type", 12, "application/json", 16 } };

static void respond_str(mfa_conn_t *c, int status, const char *body) {
    mfa_resp_err_t e = mfa_conn_respond(&pool, c, status, ct_json, 1, (const uint8_t *)body,
        strlen(body), NULL, now);
    CHECK(e == MFA_RESP_OK);
}

// ---- tests -----------------------------------------------------------------------------------

static void test_simple_keepalive(void) {
    setup(1024);
    mfa_conn_t *c = connect(1);
    CHECK(c != NULL);
    client_send(1, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    CHECK(mfa_pool_has_ready(&pool));
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    CHECK(mfa_pool_next_ready(&pool) == NULL);
    CHECK(memcmp(mfa_conn_head(r), "GET /a", 6) == 0);
    respond_str(r, 200, "{}");
    const char *out = client_read(1);
    CHECK(strcmp(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}") == 0);
    CHECK(c->state == MFA_CONN_HEAD);
    CHECK(!fakes[1].closed);
    // second request on the same connection
    client_send(1, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    respond_str(r, 404, "{\"detail\":\"Not Found\"}");
    out = client_read(1);
    CHECK(strncmp(out, "HTTP/1.1 404 Not Found\r\n", 24) == 0);
    CHECK(pool.stats.requests == 2 && pool.stats.responses == 2);
    teardown();
}

static void test_pipelining_in_order(void) {
    setup(1024);
    mfa_conn_t *c = connect(1);
    client_send(1, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nPOST /2 HTTP/1.1\r\nHost: x\r\n"
        "Content-Length: 3\r\n\r\nabcGET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    CHECK(mfa_pool_next_ready(&pool) == NULL);  // the next one only after this is answered
    CHECK(memcmp(mfa_conn_head(r), "GET /1", 6) == 0);
    respond_str(r, 200, "1");
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    CHECK(r && memcmp(mfa_conn_head(r), "POST /2", 7) == 0);
    size_t blen;
    const uint8_t *b = mfa_conn_body(r, &blen);
    CHECK(blen == 3 && memcmp(b, "abc", 3) == 0);
    respond_str(r, 201, "2");
    r = mfa_pool_next_ready(&pool);
    CHECK(r && memcmp(mfa_conn_head(r), "GET /3", 6) == 0);
    respond_str(r, 200, "3");
    const char *out = client_read(1);
    const char *p1 = strstr(out, "\r\n\r\n1"), *p2 = strstr(out, "201 Created"),
               *p3 = strstr(out, "Connection: close\r\nContent-Length: 1\r\n\r\n3");
    CHECK(p1 && p2 && p3 && p1 < p2 && p2 < p3);
    CHECK(fakes[1].shut);  // half closed after the last answer; lingering
    fakes[1].eof = true;
    step();
    CHECK(fakes[1].closed && !fakes[1].aborted);
    CHECK(c->state == MFA_CONN_FREE);
    teardown();
}

static void test_continue_and_413(void) {
    setup(100);
    connect(1);
    client_send(1, "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    step();
    CHECK(strcmp(client_read(1), "HTTP/1.1 100 Continue\r\n\r\n") == 0);
    CHECK(!mfa_pool_has_ready(&pool));
    client_send(1, "hello");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL);
    respond_str(r, 200, "ok");
    client_read(1);
    // too large: 413 without 100 Continue, then close
    client_send(1, "POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n");
    step();
    const char *out = client_read(1);
    CHECK(strncmp(out, "HTTP/1.1 413 Content Too Large\r\n", 32) == 0);
    CHECK(strstr(out, "Connection: close") != NULL);
    CHECK(strstr(out, "100 Continue") == NULL);
    CHECK(fakes[1].shut);
    teardown();
}

static void test_chunked_upload(void) {
    setup(10000);
    mfa_conn_t *c = connect(1);
    fakes[1].recv_max = 7;  // arrives in small pieces
    client_send(1, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n");
    for (int i = 0; i < 40; i++) {
        step();
    }
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    size_t blen;
    const uint8_t *b = mfa_conn_body(r, &blen);
    CHECK(blen == 11 && memcmp(b, "hello world", 11) == 0);
    respond_str(r, 200, "ok");
    for (int i = 0; i < 10; i++) {
        step();
    }
    r = mfa_pool_next_ready(&pool);
    CHECK(r && memcmp(mfa_conn_head(r), "GET /n", 6) == 0);
    respond_str(r, 200, "ok");
    teardown();
}

static void test_chunked_too_large_and_bad(void) {
    setup(8);
    connect(1);
    client_send(1, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n9\r\n123456789\r\n0\r\n\r\n");
    step();
    CHECK(strncmp(client_read(1), "HTTP/1.1 413 ", 13) == 0);
    connect(2);
    client_send(2, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
    step();
    CHECK(strncmp(client_read(2), "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    teardown();
}

static void test_large_body_external(void) {
    setup(20000);
    connect(1);
    static char req[16000];
    strcpy(req, "PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
    size_t hl = strlen(req);
    for (size_t i = 0; i < 10000; i++) {
        req[hl + i] = (char)('a' + i % 26);
    }
    req[hl + 10000] = 0;
    fakes[1].recv_max = 1000;
    client_send(1, req);
    for (int i = 0; i < 20; i++) {
        step();
    }
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL);
    size_t blen;
    const uint8_t *b = mfa_conn_body(r, &blen);
    CHECK(blen == 10000 && b[0] == 'a' && b[9999] == (uint8_t)('a' + 9999 % 26));
    CHECK(allocs == 1);
    respond_str(r, 200, "ok");
    CHECK(frees == 1);
    teardown();
}

static void test_parse_error_closes(void) {
    setup(100);
    connect(1);
    client_send(1, "GET / HTTP/1.1\r\n\r\n");  // no Host
    step();
    const char *out = client_read(1);
    CHECK(strstr(out, "HTTP/1.1 400 Bad Request\r\n") == out);
    CHECK(strstr(out, "missing Host header") != NULL);
    CHECK(fakes[1].shut);
    now += MFA_CONN_LINGER_MS + 1;
    step();
    CHECK(fakes[1].closed);
    CHECK(pool.stats.errors == 1);
    teardown();
}

static void test_head_and_http10(void) {
    setup(100);
    connect(1);
    client_send(1, "HEAD /h HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    respond_str(r, 200, "hello");
    CHECK(strcmp(client_read(1), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n") == 0);
    connect(2);
    client_send(2, "GET / HTTP/1.0\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    respond_str(r, 200, "x");
    CHECK(strstr(client_read(2), "Connection: close\r\n") != NULL);
    CHECK(fakes[2].shut);
    connect(3);
    client_send(3, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    respond_str(r, 204, "");
    CHECK(strcmp(client_read(3), "HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\nConnection: keep-alive\r\n\r\n") == 0);
    teardown();
}

static void test_timeouts(void) {
    setup(100);
    connect(1);
    connect(2);
    connect(3);
    client_send(2, "GET / HTTP/1.1\r\n");
    client_send(3, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
    step();
    now += 600;  // past idle
    step();
    CHECK(fakes[1].closed && !fakes[1].aborted);
    CHECK(!fakes[2].closed && !fakes[2].out_len);
    now += 500;  // past header timeout for 2
    step();
    CHECK(strstr(client_read(2), "408 Request Timeout") != NULL);
    now += 1000;  // past body timeout for 3
    step();
    CHECK(strstr(client_read(3), "request body timeout") != NULL);
    CHECK(pool.stats.timeouts == 2);
    // one event per timeout, none for the idle close
    CHECK(n_events == 2);
    CHECK(events[0][0] == 2 && events[0][1] == MFA_EVT_HEADER_TIMEOUT);
    CHECK(events[1][0] == 3 && events[1][1] == MFA_EVT_BODY_TIMEOUT);
    teardown();
}

static void test_pool_full(void) {
    setup(100);
    for (uintptr_t h = 1; h <= NCONN; h++) {
        CHECK(connect(h) != NULL);
        now += 10;
    }
    // all busy with requests the application holds: nothing to take back
    for (uintptr_t h = 1; h <= NCONN; h++) {
        client_send(h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    step();
    mfa_conn_t *held[NCONN];
    for (int i = 0; i < NCONN; i++) {
        held[i] = mfa_pool_next_ready(&pool);
        CHECK(held[i] != NULL);
    }
    CHECK(connect(10) == NULL);
    CHECK(pool.stats.rejected == 1 && pool.stats.evicted == 0);
    CHECK(mfa_conn_busy_response_len == strlen(mfa_conn_busy_response));
    // answer 2 and 3: both become idle keep-alive; 2 finished first, so it is the oldest
    for (int i = 0; i < NCONN; i++) {
        if (held[i]->handle == 2) {
            respond_str(held[i], 200, "x");
        }
    }
    now += 5;
    for (int i = 0; i < NCONN; i++) {
        if (held[i]->handle == 3) {
            respond_str(held[i], 200, "x");
        }
    }
    mfa_conn_t *c = connect(11);
    CHECK(c != NULL);
    CHECK(fakes[2].closed && fakes[2].aborted && !fakes[3].closed);  // reset: no TIME_WAIT
    CHECK(pool.stats.evicted == 1);
    teardown();
}

// A full pool takes a connection back in a stated order (mfa_conn.h, mfa_pool_accept): idle
// keep-alive, a lingering close, silent ones past MFA_CONN_FRESH_MS, partial heads (the
// earliest first), fresh silent ones; only a pool busy with requests answers 503.
static void test_pool_take_back_order(void) {
    setup(100);
    pool.idle_timeout_ms = pool.header_timeout_ms = 5000;
    connect(1);  // will be idle keep-alive
    client_send(1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    respond_str(mfa_pool_next_ready(&pool), 200, "x");
    client_read(1);
    connect(2);  // silent since it connected
    now += 10;
    connect(3);
    client_send(3, "GET / HT");  // a head began (earlier than 4's)
    step();
    now += 10;
    connect(4);
    client_send(4, "GET /");
    step();
    now += MFA_CONN_FRESH_MS + 10;  // 2 is silent past the fresh time now
    step();
    CHECK(pool.open == NCONN);
    CHECK(connect(10) != NULL && fakes[1].closed && fakes[1].aborted);  // idle keep-alive
    CHECK(connect(11) != NULL && fakes[2].closed && fakes[2].aborted);  // silent
    CHECK(!fakes[3].closed && !fakes[4].closed && !fakes[10].closed);
    CHECK(connect(12) != NULL && fakes[3].closed && fakes[3].aborted);  // earliest head
    CHECK(connect(13) != NULL && fakes[4].closed);                       // the other head
    // Left: 10..13, all fresh and silent (past their grace time now). A request that has
    // arrived but was not read yet is read before choosing: 10 (the oldest) is not taken, 11 is.
    now += MFA_CONN_GRACE_MS + 1;
    client_send(10, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(connect(14) != NULL && !fakes[10].closed && fakes[11].closed);
    CHECK(pool.stats.evicted == 5 && pool.stats.rejected == 0);
    // A connection that closed meanwhile frees its slot without taking anyone back.
    fakes[12].eof = true;
    CHECK(connect(15) != NULL && fakes[12].closed && !fakes[12].aborted);
    CHECK(pool.stats.evicted == 5);
    // busy: 10 ready, 13, 14 and 15 send whole requests: the next newcomer gets 503
    client_send(13, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    client_send(14, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab");  // a body
    client_send(15, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(connect(16) == NULL);
    CHECK(pool.stats.rejected == 1);
    CHECK(!fakes[10].closed && !fakes[13].closed && !fakes[14].closed && !fakes[15].closed);
    teardown();
}

// mfa_pool_make_room's wait: 0 when it made room (then the room is admitted for h) or has none.
static uint32_t make_room_for(uintptr_t h, mfa_conn_t **slot) {
    uint32_t wait = 12345;
    mfa_conn_t *room = mfa_pool_make_room(&pool, now, &wait);
    *slot = room || !wait ? mfa_pool_admit(&pool, room, h, now) : NULL;
    return wait;
}

// A connection that has sent nothing is not taken back in its first MFA_CONN_GRACE_MS (its
// request may be a round trip behind): a newcomer that finds only such connections waits
// (mfa_pool_make_room says how long), and a request arriving meanwhile keeps its slot.
static void test_pool_grace_time(void) {
    setup(100);
    pool.idle_timeout_ms = pool.header_timeout_ms = 5000;
    for (uintptr_t h = 1; h <= NCONN; h++) {
        CHECK(connect(h) != NULL);
        now += 10;  // 1 is the oldest: its grace ends first
    }
    uint32_t age1 = 10 * NCONN;  // (NCONN * 10 < MFA_CONN_GRACE_MS)
    mfa_conn_t *c;
    CHECK(make_room_for(20, &c) == MFA_CONN_GRACE_MS - age1 + 1 && c == NULL);
    CHECK(pool.stats.evicted == 0 && pool.stats.rejected == 0 && pool.open == NCONN);
    // 1's request arrives while the newcomer waits: 1 is busy now, 2 is next to go
    client_send(1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(make_room_for(21, &c) == MFA_CONN_GRACE_MS - (age1 - 10) + 1 && c == NULL);
    CHECK(mfa_pool_next_ready(&pool) != NULL);
    now += MFA_CONN_GRACE_MS - (age1 - 10);  // 2's age is MFA_CONN_GRACE_MS: still in grace
    CHECK(make_room_for(21, &c) == 1 && c == NULL);
    now += 1;
    CHECK(make_room_for(21, &c) == 0 && c != NULL && c->handle == 21);
    CHECK(fakes[2].closed && fakes[2].aborted && !fakes[1].closed);
    CHECK(pool.stats.evicted == 1 && pool.stats.rejected == 0);
    // A pool busy with requests does not wait: no room (503).
    for (uintptr_t h = 3; h <= NCONN; h++) {  // (1 is with the application, 2 taken back)
        client_send(h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    client_send(21, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK(make_room_for(22, &c) == 0 && c == NULL && pool.stats.rejected == 1);
    teardown();
}

// A newcomer that cannot wait (its transport's queue is full: wait_ms NULL, as
// mfa_pool_accept passes) takes the oldest connection in its grace time.
static void test_pool_grace_time_when_the_queue_is_full(void) {
    setup(100);
    for (uintptr_t h = 1; h <= NCONN; h++) {
        CHECK(connect(h) != NULL);
        now += 1;
    }
    CHECK(connect(20) != NULL && fakes[1].closed && fakes[1].aborted && !fakes[2].closed);
    CHECK(pool.stats.evicted == 1 && pool.stats.rejected == 0);
    teardown();
}

// A closing connection that only drains (its answer sent, POSIX lingering in the pool) is
// taken back before a silent one or a partial head.
static void test_pool_takes_back_a_lingering_close(void) {
    setup(100);
    connect(1);
    client_send(1, "BAD\r\n\r\n");
    step();
    CHECK(strncmp(client_read(1), "HTTP/1.1 400 ", 13) == 0 && fakes[1].shut);
    for (uintptr_t h = 2; h <= NCONN; h++) {
        connect(h);
        client_send(h, "GET");
    }
    step();
    CHECK(!fakes[1].closed);
    CHECK(connect(10) != NULL && fakes[1].closed && fakes[1].aborted);
    CHECK(!fakes[2].closed && !fakes[3].closed && !fakes[4].closed);
    teardown();
}

static void test_reset_mid_request_and_response(void) {
    setup(100);
    mfa_conn_t *c = connect(1);
    client_send(1, "GET / HTTP/1.1\r\nHo");
    step();
    fakes[1].reset = true;
    step();
    CHECK(c->state == MFA_CONN_FREE && fakes[1].aborted);
    CHECK(pool.stats.resets == 1);
    // mid-response: a big body the client stops taking, then resets
    c = connect(2);
    client_send(2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    uint32_t gen = r->gen;
    static uint8_t big[50000];
    fakes[2].send_room = 1000;
    CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, big, sizeof(big), big, now) == MFA_RESP_OK);
    CHECK(r->gen != gen);
    CHECK(c->ref == big);
    fakes[2].reset = true;
    step();
    CHECK(c->state == MFA_CONN_FREE && c->ref_obj == NULL);
    CHECK(pool.stats.resets == 2);
    CHECK(n_events == 2 && events[0][0] == 1 && events[0][1] == MFA_EVT_RESET);
    CHECK(events[1][0] == 2 && events[1][1] == MFA_EVT_RESET);
    teardown();
}

static void test_big_response_and_stream(void) {
    setup(100);
    mfa_conn_t *c = connect(1);
    client_send(1, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /s HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    static uint8_t big[20000];
    memset(big, 'B', sizeof(big));
    fakes[1].send_room = 3000;
    CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, big, sizeof(big), big, now) == MFA_RESP_OK);
    CHECK(!mfa_pool_has_ready(&pool));  // body still queued: the pipelined one waits
    for (int i = 0; i < 10; i++) {
        step();
    }
    CHECK(c->ref == NULL);
    const char *out = client_read(1);
    CHECK(strlen(out) == strlen("HTTP/1.1 200 OK\r\nContent-Length: 20000\r\n\r\n") + 20000);
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    fakes[1].send_room = (size_t)-1;
    CHECK(mfa_conn_stream_start(&pool, r, 200, ct_json, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"hello", 5, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, big, 5000, big, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    out = client_read(1);
    CHECK(strstr(out, "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1388\r\nBBB") != NULL);
    size_t n = strlen(out);
    CHECK(n > 8 && strcmp(out + n - 8, "B\r\n0\r\n\r\n") == 0);
    CHECK(c->state == MFA_CONN_HEAD);
    // stream back-pressure
    client_send(1, "GET /s HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    fakes[1].send_room = 0;
    CHECK(mfa_conn_stream_start(&pool, r, 200, NULL, 0, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, big, 10000, big, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, big, 10, big, now) == MFA_RESP_BUSY);
    fakes[1].send_room = (size_t)-1;
    step();
    CHECK(mfa_conn_stream_send(&pool, r, big, 10, big, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    teardown();
}

static void test_bad_response_headers(void) {
    setup(100);
    connect(1);
    client_send(1, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    mfa_header_t bad[] = { { "X-A", 3, "a\r\nb", 4 } };
    CHECK(mfa_conn_respond(&pool, r, 200, bad, 1, NULL, 0, NULL, now) == MFA_RESP_BAD_HEADER);
    static char longv[MFA_CONN_OUT_BUF];
    memset(longv, 'v', sizeof(longv));
    mfa_header_t big[] = { { "X-B", 3, longv, sizeof(longv) } };
    CHECK(mfa_conn_respond(&pool, r, 200, big, 1, NULL, 0, NULL, now) == MFA_RESP_TOO_LARGE);
    CHECK(fakes[1].out_len == 0);
    respond_str(r, 200, "fine");
    CHECK(strstr(client_read(1), "fine") != NULL);
    // stale answers are refused
    CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, NULL, 0, NULL, now) == MFA_RESP_NOT_HANDED);
    teardown();
}

static void test_slow_client(void) {
    setup(100);
    connect(1);
    const char *req = "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const char *p = req; *p; p++) {
        char one[2] = { *p, 0 };
        client_send(1, one);
        step();
        now += 20;
    }
    CHECK(mfa_pool_next_ready(&pool) != NULL);
    teardown();
}

// Memory is a resource like any other: a body that cannot be stored, or a request the binding
// cannot hand on, is answered 503 and its connection released; the other connections go on.
static void test_out_of_memory(void) {
    setup(20000);
    static char req[16000];
    strcpy(req, "PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
    size_t hl = strlen(req);
    memset(req + hl, 'b', 10000);
    req[hl + 10000] = 0;
    // 1. the body allocation fails
    connect(1);
    alloc_fails = true;
    client_send(1, req);
    step();
    CHECK(strncmp(client_read(1), "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
    CHECK(!mfa_pool_has_ready(&pool));
    alloc_fails = false;
    // 2. the body is stored, then handed over without a copy (take), and the request answered
    mfa_conn_t *c2 = connect(2);
    client_send(2, req);
    for (int i = 0; i < 10; i++) {
        step();
    }
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r == c2);
    size_t blen, bcap;
    uint8_t *b = mfa_conn_take_body(r, &blen, &bcap);
    CHECK(b != NULL && blen == 10000 && bcap == 10000 && b[0] == 'b' && b[9999] == 'b');
    CHECK(mfa_conn_take_body(r, &blen, &bcap) == NULL && blen == 0);
    f_free(NULL, b, bcap);  // the caller owns it now
    respond_str(r, 200, "ok");
    CHECK(strncmp(client_read(2), "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(c2->state == MFA_CONN_HEAD);
    // 3. a chunked body is taken the same way; a body in the input buffer is not
    client_send(2, "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\nPOST /s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c2);
    b = mfa_conn_take_body(r, &blen, &bcap);
    CHECK(b != NULL && blen == 3 && bcap >= 3 && memcmp(b, "abc", 3) == 0);
    f_free(NULL, b, bcap);
    respond_str(r, 200, "ok");
    client_read(2);
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c2);
    CHECK(mfa_conn_take_body(r, &blen, &bcap) == NULL);
    const uint8_t *ib = mfa_conn_body(r, &blen);
    CHECK(blen == 2 && memcmp(ib, "hi", 2) == 0);
    // 4. the binding could not hand the request on: 503, the connection closes, the pool
    // slot comes back, another connection is served
    uint32_t errors = pool.stats.errors;
    mfa_conn_fail(&pool, r, 503, "out of memory", now);
    const char *out = client_read(2);
    CHECK(strncmp(out, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
    CHECK(strstr(out, "Connection: close\r\n") != NULL && strstr(out, "out of memory") != NULL);
    CHECK(pool.stats.errors == errors + 1);
    CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, NULL, 0, NULL, now) == MFA_RESP_NOT_HANDED);
    fakes[2].eof = true;
    now += 10;
    step();
    CHECK(c2->state == MFA_CONN_FREE && fakes[2].closed);
    CHECK(pool.open == 1);  // only connection 1 (lingering after its 503)
    connect(3);
    client_send(3, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL && r->handle == 3);
    respond_str(r, 200, "{}");
    CHECK(strncmp(client_read(3), "HTTP/1.1 200 OK\r\n", 17) == 0);
    teardown();
}

// A body refused at its head (here 413) goes on arriving: the connection lingers while it does
// (its close would reset the connection and destroy the answer), then closes once the client
// has been quiet for MFA_CONN_LINGER_MS; a client that never stops is closed at the cap.
static void test_linger_while_the_client_sends(void) {
    setup(100);  // body timeout 2000 ms
    connect(1);
    client_send(1, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nxxxx");
    step();
    CHECK(strstr(client_read(1), "413 Content Too Large") != NULL);
    CHECK(fakes[1].shut && !fakes[1].closed);
    for (int i = 0; i < 5; i++) {  // 3 s of body, longer than the linger time
        now += MFA_CONN_LINGER_MS * 6 / 10;
        client_send(1, "yyyyyyyy");
        step();
        CHECK(!fakes[1].closed);
    }
    now += MFA_CONN_LINGER_MS + 1;
    step();
    CHECK(fakes[1].closed && !fakes[1].aborted);
    // one that never stops: closed at body timeout + linger after the answer
    connect(2);
    client_send(2, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    step();
    CHECK(strstr(client_read(2), "413") != NULL);
    uint32_t t0 = now;
    while (!fakes[2].closed && now - t0 < 10000) {
        now += 100;
        client_send(2, "z");
        step();
    }
    CHECK(fakes[2].closed && now - t0 > 2000 + MFA_CONN_LINGER_MS
        && now - t0 <= 2000 + MFA_CONN_LINGER_MS + 200);
    teardown();
}

// A transport that lingers by itself (lwIP): the slot is free as soon as the answer is out.
static int lingered;
static bool f_linger(void *ctx, mfa_conn_t *c, uint32_t now_ms) {
    (void)ctx;
    (void)now_ms;
    lingered++;
    return fakes[c->handle].shut;  // only once our side is shut
}

static void test_transport_lingers(void) {
    static const mfa_conn_io_t io = {
        f_recv, f_send, f_shutdown, f_close, f_alloc, f_realloc, f_free, NULL, f_linger,
    };
    setup(100);
    pool.io = &io;
    lingered = 0;
    mfa_conn_t *c = connect(1);
    client_send(1, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\nxxxx");
    step();
    CHECK(strstr(client_read(1), "413 Content Too Large") != NULL);
    CHECK(lingered == 1 && fakes[1].shut && !fakes[1].closed);
    CHECK(c->state == MFA_CONN_FREE && pool.open == 0);
    // a keep-alive answer is not lingered
    connect(2);
    client_send(2, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL);
    respond_str(r, 200, "{}");
    CHECK(lingered == 1 && pool.open == 1);
    teardown();
}

// The minimum data rate: past the grace period a head or body must have brought min_rate
// bytes per second since it began, else 408; a client faster than that is served.
// Connection `i`, which sent part of a head at `now`, is not answered 900 ms later and has the
// 408 of the header timeout (1000 ms in these tests) 200 ms after that.
static void check_header_timeout(int i) {
    now += 900;
    step();
    CHECK(!fakes[i].out_len);
    now += 200;
    step();
    CHECK(strstr(client_read(i), "request header timeout") != NULL);
}

static void test_min_rate(void) {
    setup(100000);  // header timeout 1000 ms, body timeout 2000 ms
    pool.min_rate = 100;  // bytes per second: 10 ms per byte
    pool.rate_grace_ms = 500;
    connect(1);
    connect(2);
    client_send(1, "GET / HTTP/1.1\r\n");  // 16 bytes: 500 + 160 ms allowed
    client_send(2, "GET / HTTP/1.1\r\n");
    step();
    now += 600;
    client_send(2, "Host: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");  // +50: 1160 ms
    step();
    CHECK(!fakes[1].out_len && !fakes[2].out_len);
    now += 100;  // 700 ms
    step();
    const char *o1 = client_read(1);
    CHECK(strstr(o1, "408 Request Timeout") != NULL && strstr(o1, "request header too slow"));
    CHECK(!fakes[2].out_len);
    client_send(2, "\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r && r->handle == 2);
    respond_str(r, 200, "x");
    CHECK(strstr(client_read(2), "200 OK") != NULL);
    // a body: 100 of 1000 bytes with the head, then nothing: 500 + 1000 ms allowed
    client_send(2, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
    for (int i = 0; i < 10; i++) {
        client_send(2, "xxxxxxxxxx");
    }
    step();
    now += 1400;
    step();
    CHECK(!fakes[2].out_len);
    now += 200;
    step();
    const char *out = client_read(2);
    CHECK(strstr(out, "408 Request Timeout") != NULL && strstr(out, "request body too slow"));
    CHECK(pool.stats.timeouts == 2);
    CHECK(n_events == 2 && events[0][1] == MFA_EVT_HEADER_TIMEOUT
        && events[1][1] == MFA_EVT_BODY_TIMEOUT);
    // 0 turns the rule off: only the header timeout ends a slow head
    pool.min_rate = 0;
    connect(3);
    client_send(3, "G");
    step();
    check_header_timeout(3);
    teardown();
}

// RFC 9112 2.2: a CRLF after a POST body is ignored; the connection holding only it is idle
// (no header timeout, taken back as idle keep-alive), and the next request is answered.
static void test_empty_lines_before_a_request(void) {
    setup(100);
    pool.header_timeout_ms = 300;  // shorter than the idle timeout (500)
    connect(1);
    client_send(1, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL);
    if (!r) {
        teardown();
        return;
    }
    respond_str(r, 200, "x");
    CHECK(strstr(client_read(1), "200 OK") != NULL);
    now += 400;  // past the header timeout: still idle, no 408
    step();
    CHECK(!fakes[1].out_len && !fakes[1].closed);
    client_send(1, "\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(r && memcmp(mfa_conn_head(r), "\r\n\r\nGET / ", 10) == 0);
    if (!r) {
        teardown();
        return;
    }
    respond_str(r, 200, "y");
    CHECK(strstr(client_read(1), "200 OK") != NULL);
    client_send(1, "\r\n");
    step();
    now += 600;  // past the idle timeout: closed without an answer
    step();
    CHECK(fakes[1].closed && !fakes[1].out_len);
    teardown();
}

// A body of 1-byte chunks is mostly framing: refused with 413 once the framing exceeds the data
// by MFA_HTTP_MAX_CHUNK_OVERHEAD, long before max_body.
static void test_chunked_framing_overhead(void) {
    setup(60000);
    connect(1);
    client_send(1, "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    size_t sent = 0;
    for (int i = 0; i < 2000 && !fakes[1].out_len; i++) {
        client_send(1, "1\r\nx\r\n");
        sent += 6;
        step();
    }
    const char *out = client_read(1);
    CHECK(strstr(out, "413 Content Too Large") && strstr(out, "chunked framing overhead too large"));
    CHECK(sent < 2000);  // 1024 / (5 - 1) chunks of 6 bytes
    teardown();
}

// The millisecond clock wraps every 49.7 days: timeouts, the rate rule and the pool's "oldest"
// stay right across the wrap.
static void test_clock_wrap(void) {
    setup(100);
    pool.min_rate = 100;
    pool.rate_grace_ms = 500;
    now = 0xffffffffu - 250;
    connect(1);  // idle from before the wrap
    connect(2);
    client_send(2, "GET / HTTP/1.1\r\n");  // 16 bytes: 660 ms allowed at 100 B/s
    step();
    now += 400;  // wrapped: 150
    step();
    CHECK(now < 1000 && !fakes[1].closed && !fakes[2].out_len);
    now += 150;  // 550 ms: past idle (500)
    step();
    CHECK(fakes[1].closed && !fakes[1].aborted && !fakes[2].out_len);
    now += 150;  // 700 ms: past the rate rule
    step();
    CHECK(strstr(client_read(2), "request header too slow") != NULL);
    // the header timeout across the wrap
    setup(100);
    now = 0xffffffffu - 100;
    connect(1);
    client_send(1, "GET / HTTP/1.1\r\n");
    step();
    check_header_timeout(1);
    // the oldest head is taken back when one began before the wrap and one after
    setup(100);
    now = 0xffffffffu - 20;
    connect(1);
    client_send(1, "GET");
    step();
    now += 40;  // wrapped: 19
    for (uintptr_t h = 2; h <= NCONN; h++) {
        connect(h);
        client_send(h, "GET");
    }
    step();
    CHECK(connect(10) != NULL && fakes[1].closed);
    CHECK(!fakes[2].closed && !fakes[3].closed && !fakes[4].closed);
    teardown();
}

int main(void) {
    test_simple_keepalive();
    test_pipelining_in_order();
    test_continue_and_413();
    test_chunked_upload();
    test_chunked_too_large_and_bad();
    test_large_body_external();
    test_parse_error_closes();
    test_head_and_http10();
    test_timeouts();
    test_pool_full();
    test_pool_take_back_order();
    test_pool_grace_time();
    test_pool_grace_time_when_the_queue_is_full();
    test_pool_takes_back_a_lingering_close();
    test_min_rate();
    test_empty_lines_before_a_request();
    test_chunked_framing_overhead();
    test_clock_wrap();
    test_reset_mid_request_and_response();
    test_big_response_and_stream();
    test_bad_response_headers();
    test_slow_client();
    test_out_of_memory();
    test_linger_while_the_client_sends();
    test_transport_lingers();
    printf("test_mfa_conn: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

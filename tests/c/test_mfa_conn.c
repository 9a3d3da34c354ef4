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
    for (int i = 0; i < 64; i++) {  // (the byte buffers need no clearing: cheap for table runs)
        fake_t *f = &fakes[i];
        f->in_len = f->out_len = f->recv_max = 0;
        f->eof = f->reset = f->shut = f->closed = f->aborted = false;
        f->send_room = (size_t)-1;
    }
    allocs = frees = 0;
    alloc_fails = false;
    n_events = 0;
    pool.stream_bodies = false;
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

// A stream whose headers hold the application's Content-Length: unframed, kept alive; a longer
// piece is cut at the length, a shorter body resets the connection; HEAD and 304 send no body;
// HTTP/1.0 keeps alive too; a non-numeric length is refused.
static void test_stream_content_length(void) {
    setup(100);
    mfa_conn_t *c = connect(1);
    mfa_header_t cl5[] = { { "content-LENGTH", 14, "5", 1 } };
    client_send(1, "GET /f HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(mfa_conn_stream_start(&pool, r, 200, cl5, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"hel", 3, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"loXYZ", 5, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"more", 4, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    step();
    CHECK(strcmp(client_read(1), "HTTP/1.1 200 OK\r\ncontent-LENGTH: 5\r\n\r\nhello") == 0);
    CHECK(c->state == MFA_CONN_HEAD);
    // HEAD: the length, no body
    client_send(1, "HEAD /f HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(mfa_conn_stream_start(&pool, r, 200, cl5, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"hello", 5, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    step();
    CHECK(strcmp(client_read(1), "HTTP/1.1 200 OK\r\ncontent-LENGTH: 5\r\n\r\n") == 0);
    // 304: no body either
    client_send(1, "GET /f HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(mfa_conn_stream_start(&pool, r, 304, cl5, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    step();
    CHECK(strcmp(client_read(1), "HTTP/1.1 304 Not Modified\r\ncontent-LENGTH: 5\r\n\r\n") == 0);
    // HTTP/1.0 with keep-alive: kept
    client_send(1, "GET /f HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    CHECK(mfa_conn_stream_start(&pool, r, 200, cl5, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"hello", 5, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
    step();
    CHECK(strstr(client_read(1), "Connection: keep-alive\r\n\r\nhello") != NULL);
    CHECK(c->state == MFA_CONN_HEAD);
    // not a number
    client_send(1, "GET /f HTTP/1.1\r\nHost: x\r\n\r\n");
    step();
    r = mfa_pool_next_ready(&pool);
    mfa_header_t bad[] = { { "Content-Length", 14, "5x", 2 } };
    CHECK(mfa_conn_stream_start(&pool, r, 200, bad, 1, now) == MFA_RESP_BAD_HEADER);
    // short: reset
    CHECK(mfa_conn_stream_start(&pool, r, 200, cl5, 1, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"he", 2, NULL, now) == MFA_RESP_OK);
    CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_CLOSED);
    CHECK(c->state == MFA_CONN_FREE);
    CHECK(strstr(client_read(1), "\r\n\r\nhe") != NULL);
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

// ---- streamed request bodies (pool->stream_bodies) -------------------------------------------

static void client_send_n(uintptr_t h, const void *p, size_t n) {
    fake_t *f = &fakes[h];
    CHECK(n <= sizeof(f->in) - f->in_len);
    memcpy(f->in + f->in_len, p, n);
    f->in_len += n;
}

// Body byte i of the generated bodies (printable: never NUL, never a CR or LF).
static uint8_t body_byte(size_t i) {
    return (uint8_t)('!' + (i * 7 + i / 91) % 90);
}

static uint8_t *make_body(size_t n) {  // malloc'd
    uint8_t *b = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        b[i] = body_byte(i);
    }
    return b;
}

// body[:n] framed as chunks of at most `chunk` bytes (the last size line with an extension, a
// trailer field), into a malloc'd buffer; its length in *wire_len.
static uint8_t *frame_chunked(const uint8_t *body, size_t n, size_t chunk, size_t *wire_len) {
    uint8_t *w = malloc(n + (n / chunk + 2) * 16 + 32);
    size_t o = 0;
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        o += (size_t)sprintf((char *)w + o, i + k == n ? "%zx;x=y\r\n" : "%zx\r\n", k);
        memcpy(w + o, body + i, k);
        o += k;
        memcpy(w + o, "\r\n", 2);
        o += 2;
    }
    o += (size_t)sprintf((char *)w + o, "0\r\nX-T: 1\r\n\r\n");
    *wire_len = o;
    return w;
}

// The head of a POST /p whose body is chunked (cl < 0) or cl bytes long; `extra`: header lines.
static void send_head(uintptr_t h, long cl, const char *extra) {
    char head[256];
    if (cl < 0) {
        snprintf(head, sizeof(head), "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n%s\r\n", extra);
    } else {
        snprintf(head, sizeof(head), "POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: %ld\r\n%s\r\n", cl, extra);
    }
    client_send(h, head);
}

static const char pipelined_get[] = "GET /n HTTP/1.1\r\nHost: x\r\n\r\n";

// The next request, which the pool (stream_bodies) handed with its body still on the wire.
static mfa_conn_t *next_deferred(void) {
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r != NULL);
    if (r) {
        size_t blen = 1;
        mfa_conn_body(r, &blen);
        CHECK((r->flags & MFA_CF_BODY_DEFER) && blen == 0);
    }
    return r;
}

// mfa_conn_body_read into a destination of exactly dst_n bytes (ASan sees an overrun) as long as
// it gives bytes (dst_n 0: mfa_conn_body_peek, the lent bytes copied); they are appended to
// got[:cap] (*got_len counts them all). Returns the last result: 0 (waiting), MFA_BODY_END or
// MFA_BODY_FAILED.
static ptrdiff_t drain(mfa_conn_t *c, uint8_t *got, size_t *got_len, size_t cap, size_t dst_n) {
    uint8_t *dst = malloc(dst_n ? dst_n : 1);
    ptrdiff_t r = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        const uint8_t *src = dst;
        r = dst_n ? mfa_conn_body_read(&pool, c, dst, dst_n, now)
                  : mfa_conn_body_peek(&pool, c, &src, now);
        if (r <= 0) {
            break;
        }
        CHECK(dst_n ? (size_t)r <= dst_n : (src >= c->in && src + r <= c->in + MFA_CONN_IN_BUF));
        if (*got_len + (size_t)r <= cap) {
            memcpy(got + *got_len, src, (size_t)r);
        }
        *got_len += (size_t)r;
    }
    free(dst);
    return r;
}

static mfa_conn_t *raw_note(void) {
    size_t from = 0;
    return mfa_pool_next_raw_note(&pool, &from);
}

// stream_bodies off: nothing changes: a large body (own allocation) and a chunked one are
// collected by the pool (100 Continue when asked) and handed whole.
static void test_stream_bodies_off(void) {
    setup(20000);
    CHECK(!pool.stream_bodies);
    mfa_conn_t *c = connect(1);
    uint8_t *body = make_body(10000);
    send_head(1, 10000, "Expect: 100-continue\r\n");
    step();
    CHECK(strcmp(client_read(1), "HTTP/1.1 100 Continue\r\n\r\n") == 0);
    CHECK(!mfa_pool_has_ready(&pool));
    fakes[1].recv_max = 700;
    client_send_n(1, body, 10000);
    for (int i = 0; i < 20 && !mfa_pool_has_ready(&pool); i++) {
        step();
    }
    mfa_conn_t *r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    if (r) {
        size_t blen;
        const uint8_t *b = mfa_conn_body(r, &blen);
        CHECK(!(r->flags & MFA_CF_BODY_DEFER) && blen == 10000 && memcmp(b, body, 10000) == 0);
        CHECK(!mfa_conn_body_pull(&pool, r, 100000, now));  // not deferred: nothing to pull
        uint8_t d[8];
        CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == MFA_BODY_FAILED);
        respond_str(r, 200, "ok");
    }
    size_t wl;
    uint8_t *wire = frame_chunked(body, 3000, 1000, &wl);
    send_head(1, -1, "");
    client_send_n(1, wire, wl);
    for (int i = 0; i < 20 && !mfa_pool_has_ready(&pool); i++) {
        step();
    }
    r = mfa_pool_next_ready(&pool);
    CHECK(r == c);
    if (r) {
        size_t blen;
        const uint8_t *b = mfa_conn_body(r, &blen);
        CHECK(!(r->flags & MFA_CF_BODY_DEFER) && blen == 3000 && memcmp(b, body, 3000) == 0);
        respond_str(r, 200, "ok");
    }
    CHECK(pool.stats.requests == 2);
    free(wire);
    free(body);
    teardown();
}

// stream_bodies on: a Content-Length body that came whole with its head is handed whole; one
// that did not (whatever its size against max_body), and any chunked body, are deferred: handed
// at once with MFA_CF_BODY_DEFER, mfa_conn_body empty, no 100 Continue sent yet.
static void test_stream_bodies_defer(void) {
    static const struct {
        const char *name;
        const char *req;
        bool deferred;
        const char *body;  // handed whole (not deferred)
    } cases[] = {
        { "CL whole with the head", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", false, "hello" },
        { "CL whole, Expect", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello", false, "hello" },
        { "CL whole, pipelined behind", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhiGET / HTTP/1.1\r\n", false, "hi" },
        { "CL 0", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", false, "" },
        { "no body", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false, "" },
        { "CL partly with the head", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nhello", true, NULL },
        { "CL head alone", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\n", true, NULL },
        { "CL head alone, Expect", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nExpect: 100-continue\r\n\r\n", true, NULL },
        { "CL above max_body", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n", true, NULL },
        { "chunked whole with the head", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", true, NULL },
        { "chunked empty", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", true, NULL },
        { "chunked head alone, Expect", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n", true, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = failures;
        setup(100);
        pool.stream_bodies = true;
        mfa_conn_t *c = connect(1);
        client_send(1, cases[i].req);
        step();
        // (a deferred body: no 100 Continue, the application decides first; one that came
        // whole is answered as without stream_bodies, 100 Continue included)
        CHECK((fakes[1].out_len == 0) == (cases[i].deferred || !strstr(cases[i].req, "Expect")));
        mfa_conn_t *r = mfa_pool_next_ready(&pool);
        CHECK(r == c && pool.stats.requests == 1);
        if (r) {
            size_t blen = 99;
            const uint8_t *b = mfa_conn_body(r, &blen);
            CHECK(!!(r->flags & MFA_CF_BODY_DEFER) == cases[i].deferred);
            if (cases[i].deferred) {
                CHECK(blen == 0);
            } else {
                CHECK(blen == strlen(cases[i].body) && memcmp(b, cases[i].body, blen) == 0);
                CHECK(!mfa_conn_body_pull(&pool, r, 1000, now));
            }
            respond_str(r, 200, "ok");
            const char *out = client_read(1);
            CHECK(!!strstr(out, "Connection: close") == cases[i].deferred);
        }
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (defer case: %s)\n", cases[i].name);
        }
    }
}

// mfa_conn_body_pull: 413 for a Content-Length above the limit (sent at once, the connection
// closes, the handle is stale); 100 Continue only when the client asked for it.
static void test_body_pull_limit_and_continue(void) {
    static const struct {
        long cl;  // -1: chunked
        uint32_t limit;
        bool expect;
        bool ok;
    } cases[] = {
        { 5000, 4999, true, false },
        { 5000, 4999, false, false },
        { 5000, 5000, true, true },
        { 5000, 5000, false, true },
        { 5000, 100000, true, true },
        { -1, 10, true, true },
        { -1, 10, false, true },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = failures;
        setup(100);
        pool.stream_bodies = true;
        mfa_conn_t *c = connect(1);
        send_head(1, cases[i].cl, cases[i].expect ? "Expect: 100-continue\r\n" : "");
        client_send(1, cases[i].cl >= 0 ? "abc" : "3\r\nabc");
        step();
        mfa_conn_t *r = next_deferred();
        if (!r) {
            teardown();
            continue;
        }
        uint32_t gen = r->gen;
        CHECK(mfa_conn_body_pull(&pool, r, cases[i].limit, now) == cases[i].ok);
        const char *out = client_read(1);
        uint8_t d[16];
        if (!cases[i].ok) {
            CHECK(strncmp(out, "HTTP/1.1 413 Content Too Large\r\n", 32) == 0);
            CHECK(strstr(out, "Connection: close\r\n") && !strstr(out, "100 Continue"));
            CHECK(r->gen != gen && c->state == MFA_CONN_CLOSING && fakes[1].shut);
            CHECK(pool.stats.errors == 1);
            CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == MFA_BODY_FAILED);
            CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, NULL, 0, NULL, now) != MFA_RESP_OK);
            CHECK(!mfa_conn_body_pull(&pool, r, 100000, now));
        } else {
            CHECK(strcmp(out, cases[i].expect ? "HTTP/1.1 100 Continue\r\n\r\n" : "") == 0);
            CHECK(r->gen == gen && (r->flags & MFA_CF_BODY_PULL) && !(r->flags & MFA_CF_BODY_DEFER));
            CHECK(!mfa_conn_body_pull(&pool, r, 100000, now));  // once
            CHECK(fakes[1].out_len == 0);  // (and no second 100 Continue)
            CHECK(raw_note() == c && raw_note() == NULL);  // "abc" came with the head
            CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == 3 && memcmp(d, "abc", 3) == 0);
            CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == 0);
        }
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (pull case %zu)\n", i);
        }
    }
}

// A pulled body, fed in one piece, split at a byte boundary, or byte by byte, with a request
// pipelined behind it; read into a destination of dst_n bytes: the exact bytes, 0 while
// waiting, MFA_CF_RAW_NOTE when bytes arrive, MFA_BODY_END at the end; then the answer keeps
// the connection and the pipelined request is handed out.
typedef struct {
    const char *name;
    bool chunked;
    const uint8_t *wire;
    size_t wire_len;
    const uint8_t *body;
    size_t body_len;
} body_case_t;

#define BYTEWISE ((size_t)-1)

static bool pull_run(const body_case_t *bc, size_t split, size_t dst_n) {
    int before = failures;
    setup(100);  // (max_body does not apply to a pulled body: its limit is the pull's)
    pool.stream_bodies = true;
    mfa_conn_t *c = connect(1);
    send_head(1, bc->chunked ? -1 : (long)bc->body_len, "");
    step();
    mfa_conn_t *r = next_deferred();
    if (!r || !mfa_conn_body_pull(&pool, r, 1 << 20, now)) {
        CHECK(false);
        teardown();
        return false;
    }
    CHECK(fakes[1].out_len == 0 && raw_note() == NULL);
    uint32_t gen = r->gen;
    size_t total = bc->wire_len + strlen(pipelined_get);
    uint8_t *wire = malloc(total);
    memcpy(wire, bc->wire, bc->wire_len);
    memcpy(wire + bc->wire_len, pipelined_get, strlen(pipelined_get));
    uint8_t *got = malloc(bc->body_len + 1);
    size_t got_len = 0, off = 0, pieces = 0;
    ptrdiff_t last = drain(r, got, &got_len, bc->body_len, dst_n);
    CHECK(last == 0 && got_len == 0);  // nothing yet
    while (last == 0 && off < total) {
        size_t piece = split == BYTEWISE ? 1 : pieces++ == 0 ? split : total - off;
        client_send_n(1, wire + off, piece);
        off += piece;
        size_t pending = fakes[1].in_len;
        now += 1;
        step();
        if (fakes[1].in_len < pending) {
            CHECK(raw_note() == c);  // bytes arrived: the application is told
        }
        CHECK(raw_note() == NULL);
        last = drain(r, got, &got_len, bc->body_len, dst_n);
        CHECK(last == 0 || last == MFA_BODY_END);
    }
    CHECK(last == MFA_BODY_END);
    CHECK(got_len == bc->body_len && memcmp(got, bc->body, bc->body_len) == 0);
    uint8_t d[4];
    CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == MFA_BODY_END);  // and stays so
    if (off < total) {
        client_send_n(1, wire + off, total - off);  // the rest of the pipelined request
    }
    respond_str(r, 200, "ok");
    const char *out = client_read(1);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 && !strstr(out, "Connection: close"));
    CHECK(r->gen != gen && c->state != MFA_CONN_FREE && !fakes[1].shut);
    step();
    mfa_conn_t *n = mfa_pool_next_ready(&pool);
    CHECK(n == c && n && memcmp(mfa_conn_head(n), "GET /n ", 7) == 0);
    if (n) {
        respond_str(n, 200, "n");
    }
    CHECK(pool.stats.requests == 2 && pool.stats.responses == 2 && pool.stats.errors == 0);
    free(got);
    free(wire);
    teardown();
    if (failures != before) {
        fprintf(stderr, "  (pull run: %s, split %ld, dst %zu)\n", bc->name,
            split == BYTEWISE ? -1L : (long)split, dst_n);
        return false;
    }
    return true;
}

static void test_body_read_splits(void) {
    static const char hw_wire[] = "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
    uint8_t *body = make_body(20000);
    size_t w1, w2, w3;
    uint8_t *c1 = frame_chunked(body, 300, 7, &w1);      // many small chunks
    uint8_t *c2 = frame_chunked(body, 5000, 1000, &w2);   // larger than the input buffer
    uint8_t *c3 = frame_chunked(body, 9000, 4500, &w3);   // chunks larger than the buffer
    const body_case_t cases[] = {
        { "CL 1", false, body, 1, body, 1 },
        { "CL 100", false, body, 100, body, 100 },
        { "CL 3000", false, body, 3000, body, 3000 },
        { "CL 9000", false, body, 9000, body, 9000 },
        { "chunked hello world", true, (const uint8_t *)hw_wire, strlen(hw_wire),
          (const uint8_t *)"hello world", 11 },
        { "chunked 300 in 7s", true, c1, w1, body, 300 },
        { "chunked 5000 in 1000s", true, c2, w2, body, 5000 },
        { "chunked 9000 in 4500s", true, c3, w3, body, 9000 },
    };
    static const size_t dsts[] = { 1, 7, 1000, 0 };  // (0: mfa_conn_body_peek)
    int failed_runs = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]) && failed_runs < 5; i++) {
        const body_case_t *bc = &cases[i];
        size_t total = bc->wire_len + strlen(pipelined_get);
        for (size_t d = 0; d < 4 && failed_runs < 5; d++) {
            failed_runs += !pull_run(bc, total, dsts[d]);      // whole
            failed_runs += !pull_run(bc, BYTEWISE, dsts[d]);   // byte by byte
            if (bc->wire_len <= 400) {
                for (size_t k = 0; k <= total && failed_runs < 5; k++) {  // every boundary
                    failed_runs += !pull_run(bc, k, dsts[d]);
                }
            } else {
                // around the input buffer's size, and a few others
                size_t ks[] = { 0, 1, 2, 3, 5, 100, 1000, MFA_CONN_IN_BUF - 100, MFA_CONN_IN_BUF - 60,
                    MFA_CONN_IN_BUF - 1, MFA_CONN_IN_BUF, MFA_CONN_IN_BUF + 1, bc->wire_len - 1,
                    bc->wire_len, bc->wire_len + 1, total - 1 };
                for (size_t k = 0; k < sizeof(ks) / sizeof(ks[0]) && failed_runs < 5; k++) {
                    if (ks[k] <= total) {
                        failed_runs += !pull_run(bc, ks[k], dsts[d]);
                    }
                }
            }
        }
    }
    free(c1);
    free(c2);
    free(c3);
    free(body);
}

// mfa_conn_body_peek lends bytes in place: they stay as they were while more arrive (the buffer
// filling behind them), go back at the next peek, and a request answered while bytes are lent
// (its body read to the end) keeps its connection: the pipelined request behind is intact.
static void test_body_peek_lends(void) {
    uint8_t *body = make_body(3 * MFA_CONN_IN_BUF);
    size_t blen = 3 * MFA_CONN_IN_BUF;
    setup(100);
    pool.stream_bodies = true;
    mfa_conn_t *c = connect(1);
    send_head(1, (long)blen, "");
    step();
    mfa_conn_t *r = next_deferred();
    CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
    if (!r) {
        teardown();
        free(body);
        return;
    }
    client_send_n(1, body, 1000);
    now += 1;
    step();
    const uint8_t *p = NULL;
    size_t got = 0;
    ptrdiff_t n = mfa_conn_body_peek(&pool, r, &p, now);
    CHECK(n == 1000 && memcmp(p, body, 1000) == 0);
    got += (size_t)n;
    client_send_n(1, body + 1000, blen - 1000);
    client_send_n(1, pipelined_get, strlen(pipelined_get));
    now += 1;
    step();  // the buffer fills behind the lent bytes
    CHECK(memcmp(p, body, 1000) == 0);
    CHECK(r->in_len == MFA_CONN_IN_BUF);
    while ((n = mfa_conn_body_peek(&pool, r, &p, now)) > 0) {
        CHECK(got + (size_t)n <= blen && memcmp(p, body + got, (size_t)n) == 0);
        got += (size_t)n;
        if (got == blen) {
            break;  // answered with the last piece lent
        }
    }
    CHECK(got == blen);
    respond_str(r, 200, "ok");
    const char *out = client_read(1);
    CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 && !strstr(out, "Connection: close"));
    step();
    mfa_conn_t *next = mfa_pool_next_ready(&pool);
    CHECK(next == c && next && memcmp(mfa_conn_head(next), "GET /n ", 7) == 0);
    if (next) {
        respond_str(next, 200, "n");
    }
    CHECK(pool.stats.requests == 2 && pool.stats.responses == 2 && pool.stats.errors == 0);
    teardown();
    free(body);
}

// A client that goes while its handler holds lent bytes: the slot is taken last by new
// clients (the handler may still be writing those bytes out), and the lent bytes are intact.
static void test_body_peek_slot_taken_last(void) {
    uint8_t *body = make_body(2000);
    setup(100);
    pool.stream_bodies = true;
    connect(1);
    send_head(1, 5000, "");
    step();
    mfa_conn_t *r = next_deferred();
    CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
    if (!r) {
        teardown();
        free(body);
        return;
    }
    client_send_n(1, body, 2000);
    now += 1;
    step();
    const uint8_t *p = NULL;
    CHECK(mfa_conn_body_peek(&pool, r, &p, now) == 2000);
    mfa_conn_t *slot = r;
    mfa_conn_close(&pool, r, true);  // (as a reset would)
    CHECK(slot->state == MFA_CONN_FREE);
    for (uintptr_t h = 2; h < 2 + NCONN - 1; h++) {
        mfa_conn_t *n = connect(h);
        CHECK(n && n != slot);
        client_send_n(h, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    }
    now += 1;
    step();
    CHECK(memcmp(p, body, 2000) == 0);
    teardown();
    free(body);
}

// A pulled body that never completes: a chunked framing error (400), a chunked body over the
// pull's limit (413), the peer's EOF mid-body (closed). The bytes before the failure are read,
// then MFA_BODY_FAILED; the connection closes and the handle is stale.
static void test_body_read_failures(void) {
    static const struct {
        const char *name;
        long cl;             // -1: chunked
        uint32_t limit;
        const char *wire;
        bool eof;            // then the peer closes
        const char *decoded; // what may be read before the failure (all of it when exact)
        bool exact;
        const char *answer;  // NULL: closed without one
    } cases[] = {
        { "chunked framing error", -1, 1000, "zz\r\n", false, "", true, "400 Bad Request" },
        { "chunked framing error after data", -1, 1000, "5\r\nhello\r\nzz\r\n", false, "hello", false, "400 Bad Request" },
        { "chunked missing CRLF", -1, 1000, "5\r\nhelloXX", false, "hello", false, "400 Bad Request" },
        { "chunked over the limit", -1, 8, "9\r\n123456789\r\n0\r\n\r\n", false, "12345678", false, "413 Content Too Large" },
        { "chunked over the limit in pieces", -1, 8, "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", false, "hellowor", false, "413 Content Too Large" },
        { "CL: EOF mid-body", 10, 1000, "abc", true, "abc", true, NULL },
        { "CL: EOF before the body", 10, 1000, "", true, "", true, NULL },
        { "chunked: EOF mid-chunk", -1, 1000, "5\r\nhel", true, "hel", true, NULL },
        { "chunked: EOF before the last chunk", -1, 1000, "5\r\nhello\r\n", true, "hello", true, NULL },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int bytewise = 0; bytewise < 2; bytewise++) {
            for (size_t dst_n = 1; dst_n <= 1000; dst_n *= 1000) {
                int before = failures;
                setup(100000);
                pool.stream_bodies = true;
                mfa_conn_t *c = connect(1);
                send_head(1, cases[i].cl, "");
                step();
                mfa_conn_t *r = next_deferred();
                if (!r || !mfa_conn_body_pull(&pool, r, cases[i].limit, now)) {
                    CHECK(false);
                    teardown();
                    continue;
                }
                uint32_t gen = r->gen;
                uint8_t got[64];
                size_t got_len = 0, wl = strlen(cases[i].wire);
                ptrdiff_t last = 0;
                for (size_t off = 0; off < wl && last == 0;) {
                    size_t piece = bytewise ? 1 : wl;
                    client_send_n(1, cases[i].wire + off, piece);
                    off += piece;
                    step();
                    last = drain(r, got, &got_len, sizeof(got), dst_n);
                }
                if (cases[i].eof) {
                    CHECK(last == 0);
                    fakes[1].eof = true;
                    step();
                    CHECK(raw_note() == c);  // the EOF is news too
                    last = drain(r, got, &got_len, sizeof(got), dst_n);
                }
                CHECK(last == MFA_BODY_FAILED);
                const char *dec = cases[i].decoded;
                CHECK(got_len <= strlen(dec) && memcmp(got, dec, got_len) == 0);
                CHECK(!cases[i].exact || got_len == strlen(dec));
                if (bytewise && !cases[i].exact) {
                    CHECK(got_len == strlen(dec));  // byte by byte, all before the failure
                }
                CHECK(r->gen != gen);
                uint8_t d[4];
                CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == MFA_BODY_FAILED);
                CHECK(mfa_conn_respond(&pool, r, 200, NULL, 0, NULL, 0, NULL, now) != MFA_RESP_OK);
                const char *out = client_read(1);
                if (cases[i].answer) {
                    CHECK(strncmp(out, "HTTP/1.1 ", 9) == 0 && strncmp(out + 9, cases[i].answer, strlen(cases[i].answer)) == 0);
                    CHECK(strstr(out, "Connection: close\r\n") != NULL);
                    CHECK(c->state == MFA_CONN_CLOSING && fakes[1].shut && pool.stats.errors == 1);
                } else {
                    CHECK(out[0] == 0 && c->state == MFA_CONN_FREE && fakes[1].closed);
                }
                teardown();
                if (failures != before) {
                    fprintf(stderr, "  (failure case: %s, %s, dst %zu)\n", cases[i].name,
                        bytewise ? "bytewise" : "whole", dst_n);
                }
            }
        }
    }
}

// While the input buffer is full nothing more is taken from the transport (the TCP window
// closes); a read makes room and the rest is read.
static void test_body_pull_backpressure(void) {
    uint8_t *body = make_body(20000);
    for (int chunked = 0; chunked < 2; chunked++) {
        int before = failures;
        setup(100);
        pool.stream_bodies = true;
        mfa_conn_t *c = connect(1);
        size_t wl = 20000;
        uint8_t *wire = chunked ? frame_chunked(body, 20000, 3000, &wl) : body;
        send_head(1, chunked ? -1 : 20000, "");
        step();
        mfa_conn_t *r = next_deferred();
        CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
        client_send_n(1, wire, wl);
        step();
        CHECK(c->in_len == MFA_CONN_IN_BUF && !mfa_conn_wants_read(c));
        size_t left = fakes[1].in_len;
        CHECK(left == wl - (MFA_CONN_IN_BUF - c->head_len));
        CHECK(raw_note() == c);
        for (int i = 0; i < 5; i++) {
            now += 100;
            step();
        }
        CHECK(fakes[1].in_len == left && raw_note() == NULL);  // nothing taken while full
        uint8_t d[1000];
        CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == 1000 && memcmp(d, body, 1000) == 0);
        CHECK(fakes[1].in_len < left && c->in_len == MFA_CONN_IN_BUF);  // the rest is read at once
        uint8_t *got = malloc(20000);
        memcpy(got, d, 1000);
        size_t got_len = 1000;
        ptrdiff_t last = 0;
        for (int i = 0; i < 100 && last == 0; i++) {
            last = drain(r, got, &got_len, 20000, 999);
            step();
        }
        CHECK(last == MFA_BODY_END && got_len == 20000 && memcmp(got, body, 20000) == 0);
        respond_str(r, 200, "ok");
        CHECK(c->state == MFA_CONN_HEAD);
        free(got);
        if (chunked) {
            free(wire);
        }
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (backpressure, %s)\n", chunked ? "chunked" : "Content-Length");
        }
    }
    free(body);
}

// A pulled body times out after body_timeout_ms without a byte while the buffer has room (408);
// a full buffer held by a slow application does not, and taking bytes restarts the clock.
static void test_body_pull_timeout(void) {
    setup(100);  // body timeout 2000 ms
    pool.stream_bodies = true;
    mfa_conn_t *c = connect(1);
    send_head(1, 20000, "");
    step();
    mfa_conn_t *r = next_deferred();
    CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
    uint32_t gen = r->gen;
    uint8_t got[16];
    size_t got_len = 0;
    client_send(1, "abc");
    step();
    CHECK(drain(r, got, &got_len, sizeof(got), 7) == 0 && got_len == 3);
    now += 1500;
    client_send(1, "d");  // a byte restarts the clock
    step();
    now += 1500;
    step();
    CHECK(fakes[1].out_len == 0);
    CHECK(drain(r, got, &got_len, sizeof(got), 7) == 0 && got_len == 4);  // (restarts it too)
    now += 2000;
    step();
    CHECK(fakes[1].out_len == 0 && c->state == MFA_CONN_READY);
    now += 1;
    step();
    const char *out = client_read(1);
    CHECK(strstr(out, "408 Request Timeout") && strstr(out, "request body timeout"));
    CHECK(r->gen != gen && pool.stats.timeouts == 1);
    CHECK(n_events == 1 && events[0][0] == 1 && events[0][1] == MFA_EVT_BODY_TIMEOUT);
    uint8_t d[4];
    CHECK(mfa_conn_body_read(&pool, r, d, sizeof(d), now) == MFA_BODY_FAILED);
    teardown();

    // a full buffer: the application's pace
    setup(100);
    pool.stream_bodies = true;
    c = connect(1);
    uint8_t *body = make_body(20000);
    send_head(1, 20000, "");
    step();
    r = next_deferred();
    CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
    size_t room = MFA_CONN_IN_BUF - c->head_len;
    client_send_n(1, body, room + 500);
    step();
    CHECK(c->in_len == MFA_CONN_IN_BUF && fakes[1].in_len == 500);
    for (int i = 0; i < 10; i++) {  // 10 s
        now += 1000;
        step();
    }
    CHECK(fakes[1].out_len == 0 && c->state == MFA_CONN_READY && pool.stats.timeouts == 0);
    uint8_t big[2000];
    CHECK(mfa_conn_body_read(&pool, r, big, sizeof(big), now) == 2000 && memcmp(big, body, 2000) == 0);
    CHECK(fakes[1].in_len == 0 && c->in_len == MFA_CONN_IN_BUF - 1500);  // room now
    now += 2000;  // from the take (not from when the buffer filled)
    step();
    CHECK(fakes[1].out_len == 0 && c->state == MFA_CONN_READY);
    now += 1;
    step();
    CHECK(strstr(client_read(1), "408 Request Timeout") != NULL);
    teardown();

    // the whole body has arrived and waits for the application: no client to time out
    setup(100);
    pool.stream_bodies = true;
    c = connect(1);
    send_head(1, 1000, "");
    step();
    r = next_deferred();
    CHECK(r && mfa_conn_body_pull(&pool, r, 1 << 20, now));
    client_send_n(1, body, 1000);
    step();
    now += 5000;
    step();
    CHECK(fakes[1].out_len == 0 && c->state == MFA_CONN_READY);
    uint8_t *all = malloc(1000);
    size_t all_len = 0;
    CHECK(drain(r, all, &all_len, 1000, 1000) == MFA_BODY_END && all_len == 1000);
    free(all);
    free(body);
    teardown();

    // chunked: 408 once everything that came was taken and nothing more comes; no timeout
    // while decoded bytes (or a body that is all in) wait for the application
    static const struct {
        const char *wire;
        size_t first_read;  // bytes the application takes at once, then holds the rest 5 s
        const char *body;
        bool complete;
    } ch[] = {
        { "5\r\nhel", 0, "hel", false },
        { "5\r\nhello\r\n", 1, "hello", false },
        { "5\r\nhello\r\n0\r\n\r\n", 0, "hello", true },
        { "5\r\nhello\r\n0\r\n\r\n", 2, "hello", true },
    };
    for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
        int before = failures;
        setup(100);
        pool.stream_bodies = true;
        c = connect(1);
        send_head(1, -1, "");
        step();
        r = next_deferred();
        CHECK(r && mfa_conn_body_pull(&pool, r, 1000, now));
        client_send(1, ch[i].wire);
        step();
        size_t got_len = 0;
        uint8_t got2[16];
        for (size_t k = 0; k < ch[i].first_read; k++) {
            CHECK(mfa_conn_body_read(&pool, r, got2 + got_len++, 1, now) == 1);
        }
        if (ch[i].first_read || ch[i].complete) {
            now += 5000;  // the application is behind, not the client
            step();
            CHECK(fakes[1].out_len == 0 && c->state == MFA_CONN_READY);
        }
        ptrdiff_t last = drain(r, got2, &got_len, sizeof(got2), 1000);
        CHECK(got_len == strlen(ch[i].body) && memcmp(got2, ch[i].body, got_len) == 0);
        if (ch[i].complete) {
            CHECK(last == MFA_BODY_END);
            respond_str(r, 200, "ok");
            CHECK(!strstr(client_read(1), "Connection: close") && c->state == MFA_CONN_HEAD);
        } else {
            CHECK(last == 0);
            now += 2000;
            step();
            CHECK(fakes[1].out_len == 0);
            now += 1;
            step();
            CHECK(strstr(client_read(1), "408 Request Timeout") != NULL);
        }
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (chunked timeout case %zu)\n", i);
        }
    }
}

// An answer given before the body was read to its end (deferred, or pulled) carries
// Connection: close and the connection closes: the unread bytes are never parsed as a request.
static void test_body_unread_closes(void) {
    static const struct {
        const char *name;
        long cl;                // -1: chunked
        const char *with_head;  // body bytes that come with the head
        bool pull;
        const char *arrives;    // then (before the answer): the rest, and a pipelined request
        size_t read_n;          // bytes the application reads
        bool stream;            // answered with a stream
    } cases[] = {
        { "deferred", 10, "abc", false, "defghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 0, false },
        { "deferred, stream", 10, "abc", false, "defghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 0, true },
        { "deferred chunked", -1, "5\r\nhel", false, "lo\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 0, false },
        { "pulled, none read", 10, "", true, "abcdefghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 0, false },
        { "pulled, part read", 10, "abc", true, "defghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 5, false },
        { "pulled, all but one read", 10, "abc", true, "defghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 9, false },
        { "pulled, part read, stream", 10, "abc", true, "defghijGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 5, true },
        { "pulled chunked, part read", -1, "5\r\nhel", true, "lo\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n", 2, false },
        { "pulled chunked, all decoded, part read", -1, "5\r\nhello\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n", true, "", 1, false },
        { "pulled chunked, all decoded, all but one read", -1, "a\r\nhelloworld\r\n0\r\n\r\nGET /n HTTP/1.1\r\nHost: x\r\n\r\n", true, "", 9, false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = failures;
        setup(100);
        pool.stream_bodies = true;
        mfa_conn_t *c = connect(1);
        send_head(1, cases[i].cl, "");
        client_send(1, cases[i].with_head);
        step();
        mfa_conn_t *r = next_deferred();
        if (!r) {
            teardown();
            continue;
        }
        if (cases[i].pull) {
            CHECK(mfa_conn_body_pull(&pool, r, 1000, now));
        }
        client_send(1, cases[i].arrives);
        step();
        uint8_t d[16];
        for (size_t k = 0; k < cases[i].read_n; k++) {
            CHECK(mfa_conn_body_read(&pool, r, d, 1, now) == 1);
        }
        if (cases[i].stream) {
            CHECK(mfa_conn_stream_start(&pool, r, 200, NULL, 0, now) == MFA_RESP_OK);
            CHECK(mfa_conn_stream_send(&pool, r, (const uint8_t *)"x", 1, NULL, now) == MFA_RESP_OK);
            CHECK(mfa_conn_stream_end(&pool, r, now) == MFA_RESP_OK);
        } else {
            respond_str(r, 200, "ok");
        }
        const char *out = client_read(1);
        CHECK(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0 && strstr(out, "Connection: close\r\n"));
        CHECK(c->state == MFA_CONN_CLOSING || c->state == MFA_CONN_FREE);
        for (int k = 0; k < 3; k++) {
            now += 10;
            step();
        }
        CHECK(mfa_pool_next_ready(&pool) == NULL && fakes[1].out_len == 0);
        CHECK(pool.stats.requests == 1 && pool.stats.errors == 0 && fakes[1].shut);
        now += MFA_CONN_LINGER_MS + 1;
        step();
        CHECK(fakes[1].closed && c->state == MFA_CONN_FREE);
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (unread case: %s)\n", cases[i].name);
        }
    }
}

// mfa_conn_body_collect: the body is collected under the given limit (not max_body: 413 above
// it whether max_body is larger or smaller), 100 Continue when asked, and the request is handed
// out again whole, counted once.
static void test_body_collect(void) {
    static const struct {
        const char *name;
        uint32_t max_body;
        bool chunked;
        size_t len;        // body bytes
        uint32_t limit;
        bool expect;
        size_t with_head;  // wire bytes that come with the head
        bool too_large;
    } cases[] = {
        { "CL, max_body smaller", 10, false, 5000, 10000, true, 0, false },
        { "CL at the limit", 10, false, 5000, 5000, false, 100, false },
        { "CL small", 10, false, 300, 300, true, 10, false },
        { "CL over, max_body larger", 100000, false, 5000, 4999, true, 0, true },
        { "CL over, max_body smaller", 10, false, 5000, 4000, true, 0, true },
        { "chunked, max_body smaller", 10, true, 5000, 5000, true, 0, false },
        { "chunked, some with the head", 10, true, 300, 1000, false, 50, false },
        { "chunked whole with the head", 10, true, 300, 1000, false, (size_t)-1, false },
        { "chunked over, max_body larger", 100000, true, 5000, 4999, false, 0, true },
        { "chunked over, max_body smaller", 10, true, 5000, 4000, true, 0, true },
    };
    uint8_t *body = make_body(5000);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = failures;
        setup(cases[i].max_body);
        pool.stream_bodies = true;
        mfa_conn_t *c = connect(1);
        size_t wl = cases[i].len;
        uint8_t *wire = cases[i].chunked ? frame_chunked(body, cases[i].len, 1000, &wl) : body;
        size_t wh = cases[i].with_head > wl ? wl : cases[i].with_head;
        send_head(1, cases[i].chunked ? -1 : (long)cases[i].len,
            cases[i].expect ? "Expect: 100-continue\r\n" : "");
        client_send_n(1, wire, wh);
        step();
        mfa_conn_t *r = next_deferred();
        if (!r) {
            teardown();
            continue;
        }
        CHECK(fakes[1].out_len == 0);
        uint32_t gen = r->gen;
        mfa_conn_body_collect(&pool, r, cases[i].limit, now);
        const char *out = client_read(1);
        bool early_413 = cases[i].too_large && !cases[i].chunked;
        if (early_413) {
            CHECK(strncmp(out, "HTTP/1.1 413 Content Too Large\r\n", 32) == 0 && !strstr(out, "100 Continue"));
        } else {
            CHECK(strcmp(out, cases[i].expect ? "HTTP/1.1 100 Continue\r\n\r\n" : "") == 0);
            CHECK(!(r->flags & (MFA_CF_BODY_DEFER | MFA_CF_BODY_PULL)));
            fakes[1].recv_max = 1000;
            client_send_n(1, wire + wh, wl - wh);
            client_send(1, pipelined_get);
            for (int k = 0; k < 20 && !mfa_pool_has_ready(&pool) && c->state == MFA_CONN_BODY; k++) {
                step();
            }
        }
        if (cases[i].too_large) {
            if (!early_413) {
                CHECK(strstr(client_read(1), "413 Content Too Large") != NULL);
            }
            CHECK(mfa_pool_next_ready(&pool) == NULL && r->gen != gen);
            CHECK(c->state == MFA_CONN_CLOSING && pool.stats.errors == 1);
        } else {
            mfa_conn_t *again = mfa_pool_next_ready(&pool);
            CHECK(again == c && pool.stats.requests == 1 && r->gen == gen);
            if (again) {
                size_t blen;
                const uint8_t *b = mfa_conn_body(again, &blen);
                CHECK(blen == cases[i].len && memcmp(b, body, blen) == 0);
                CHECK(!(again->flags & MFA_CF_BODY_DEFER));
                CHECK(!mfa_conn_body_pull(&pool, again, 100000, now));  // collected: not deferred
                respond_str(again, 200, "ok");
                CHECK(!strstr(client_read(1), "Connection: close"));
                for (int k = 0; k < 3; k++) {
                    step();
                }
                mfa_conn_t *n = mfa_pool_next_ready(&pool);
                CHECK(n == c && n && memcmp(mfa_conn_head(n), "GET /n ", 7) == 0);
                if (n) {
                    respond_str(n, 200, "n");
                }
                CHECK(pool.stats.requests == 2 && pool.stats.responses == 2);
            }
        }
        if (cases[i].chunked) {
            free(wire);
        }
        teardown();
        if (failures != before) {
            fprintf(stderr, "  (collect case: %s)\n", cases[i].name);
        }
    }
    free(body);
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
    test_stream_content_length();
    test_stream_bodies_off();
    test_stream_bodies_defer();
    test_body_pull_limit_and_continue();
    test_body_read_splits();
    test_body_peek_lends();
    test_body_peek_slot_taken_last();
    test_body_read_failures();
    test_body_pull_backpressure();
    test_body_pull_timeout();
    test_body_unread_closes();
    test_body_collect();
    printf("test_mfa_conn: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}

// mfa_posix: the POSIX-socket transport of _mfa.Server (unix port).
//
// Non-blocking sockets and poll(2). One poll() per Server.poll() over the listener and every
// connection, asking for what mfa_conn wants (read, write); only connections with events do
// I/O, all of them get their timeouts checked. Nothing here blocks except Server.wait().

#include "py/mpconfig.h"
#include "modmfa_server.h"

#if defined(MFA_SERVER_POSIX)

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#if defined(__linux__)
#include <sys/epoll.h>
#include <sys/eventfd.h>
#define MFA_POSIX_FILENO (1)
#endif

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/mphal.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL (0)
#endif

// Connections accepted per step at most, so a connection storm cannot starve the others.
#ifndef MFA_POSIX_ACCEPT_BURST
#define MFA_POSIX_ACCEPT_BURST (16)
#endif

typedef struct _mfa_posix_t {
    int lfd;
    size_t nfds;
    struct pollfd *fds;     // [0] the listener, then one per connection in use
    uint16_t *slot;         // fds[i] (i >= 1) belongs to conns[slot[i]]
    // fileno() (Linux): an epoll fd, readable when poll() may return something. Created on the
    // first fileno() call; until then none of this costs anything.
    int epfd;               // -1: fileno() never called
    int evfd;               // eventfd in epfd's set: set while a request is ready
    bool ev_set;
    int *reg_fd;            // [pool.n] the fd registered for conns[i] (-1: none)
    uint32_t *reg_ev;       // [pool.n] its events
} mfa_posix_t;

static int fd_of(const mfa_conn_t *c) {
    return (int)c->handle;
}

static bool again(int e) {
    return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

static int p_recv(void *ctx, mfa_conn_t *c, uint8_t *buf, size_t n) {
    (void)ctx;
    if (n > INT_MAX) {
        n = INT_MAX;
    }
    ssize_t r = recv(fd_of(c), buf, n, 0);
    if (r > 0) {
        return (int)r;
    }
    if (r == 0) {
        return MFA_IO_EOF;
    }
    return again(errno) ? 0 : MFA_IO_ERR;
}

bool mfa_tr_peer_gone(mfa_server_obj_t *srv, mfa_conn_t *c) {
    (void)srv;
    uint8_t b;
    ssize_t r = recv(fd_of(c), &b, 1, MSG_PEEK | MSG_DONTWAIT);
    if (r > 0) {
        return false;  // unread bytes (a pipelined request): the client is still there
    }
    return r == 0 || !again(errno);
}

static int p_send(void *ctx, mfa_conn_t *c, const uint8_t *buf, size_t n, bool more) {
    (void)ctx;
    if (n > INT_MAX) {
        n = INT_MAX;
    }
    int flags = MSG_NOSIGNAL;
    #ifdef MSG_MORE
    if (more) {
        flags |= MSG_MORE;
    }
    #else
    (void)more;
    #endif
    ssize_t r = send(fd_of(c), buf, n, flags);
    if (r >= 0) {
        return (int)r;
    }
    return again(errno) ? 0 : MFA_IO_ERR;
}

static void p_shutdown(void *ctx, mfa_conn_t *c) {
    (void)ctx;
    shutdown(fd_of(c), SHUT_WR);
}

static void p_close(void *ctx, mfa_conn_t *c, bool abort) {
    mfa_server_obj_t *srv = ctx;
    mfa_posix_t *t = srv->tr;
    if (t && t->epfd >= 0) {
        t->reg_fd[c - srv->conns] = -1;  // close() takes the fd out of the epoll set
    }
    int fd = fd_of(c);
    if (abort) {
        // Reset rather than FIN: the peer learns at once that the exchange failed.
        struct linger lg = { 1, 0 };
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    close(fd);
}

const mfa_conn_io_t mfa_tr_io = {
    p_recv, p_send, p_shutdown, p_close, mfa_srv_alloc, mfa_srv_realloc, mfa_srv_free,
    mfa_srv_event,
    NULL,  // linger: in the pool (loopback and LAN clients drain fast)
};

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL, 0);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    fcntl(fd, F_SETFD, FD_CLOEXEC);
}

void mfa_tr_open(mfa_server_obj_t *srv, const char *host, mp_int_t port, mp_int_t backlog) {
    mfa_posix_t *t = m_new_obj(mfa_posix_t);
    t->lfd = -1;
    t->fds = m_new(struct pollfd, srv->pool.n + 1);
    t->slot = m_new(uint16_t, srv->pool.n + 1);
    t->nfds = 0;
    t->epfd = t->evfd = -1;
    t->ev_set = false;
    t->reg_fd = NULL;
    t->reg_ev = NULL;
    srv->tr = t;

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)(port & 0xffff));
    int err = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (err != 0 || !res) {
        mp_raise_OSError(MP_EINVAL);
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        mp_raise_OSError(errno);
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, (int)backlog) < 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(res);
        mp_raise_OSError(e);
    }
    freeaddrinfo(res);
    set_nonblock(fd);
    t->lfd = fd;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    srv->port = (mp_uint_t)port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            srv->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            srv->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
    }
}

void mfa_tr_close(mfa_server_obj_t *srv) {
    mfa_posix_t *t = srv->tr;
    if (t && t->lfd >= 0) {
        close(t->lfd);
        t->lfd = -1;
    }
    if (t && t->epfd >= 0) {
        close(t->epfd);
        close(t->evfd);
        t->epfd = t->evfd = -1;
    }
}

static void client_addr(mfa_conn_t *c, const struct sockaddr_storage *ss) {
    c->addr[0] = 0;
    c->port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, c->addr, sizeof(c->addr));
        c->port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, c->addr, sizeof(c->addr));
        c->port = ntohs(a->sin6_port);
    }
}

// Pool full and nobody idle to evict: 503 and close. The request bytes that may already be
// there are read first so that close() sends FIN, not a reset that would eat the 503.
static void reject(int fd) {
    ssize_t r = send(fd, mfa_conn_busy_response, mfa_conn_busy_response_len, MSG_NOSIGNAL);
    (void)r;
    shutdown(fd, SHUT_WR);
    uint8_t scratch[512];
    for (int i = 0; i < 8 && recv(fd, scratch, sizeof(scratch), 0) > 0; i++) {
    }
    close(fd);
}

static void do_accept(mfa_server_obj_t *srv, mfa_posix_t *t, uint32_t now) {
    for (int i = 0; i < MFA_POSIX_ACCEPT_BURST; i++) {
        if (i > 0 && srv->pool.open >= srv->pool.n) {
            // Making room takes a connection back: only for a newcomer known to be there
            // (this step's poll said one is); the next step's poll tells about the next.
            return;
        }
        uint32_t wait;
        mfa_conn_t *room = mfa_pool_make_room(&srv->pool, now, &wait);
        if (!room && wait) {
            // The newcomers wait in the listen queue until a grace time ends. The listen
            // socket stays in the poll set, so the server polls again at once meanwhile: a
            // busy wait of at most MFA_CONN_GRACE_MS, only while the full pool holds nothing
            // but connections in their grace time and busy ones.
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept(t->lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            return;  // an error on a connection already gone (room stays free): try next time
        }
        set_nonblock(fd);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));  // Nagle off
        mfa_conn_t *c = mfa_pool_admit(&srv->pool, room, (uintptr_t)fd, now);
        if (!c) {
            reject(fd);
            continue;
        }
        client_addr(c, &ss);
    }
}

// Fill t->fds with what each connection waits for.
static void build_fds(mfa_server_obj_t *srv, mfa_posix_t *t) {
    size_t n = 0;
    t->fds[n].fd = t->lfd;
    t->fds[n].events = POLLIN;
    t->fds[n].revents = 0;
    n++;
    for (size_t i = 0; i < srv->pool.n; i++) {
        mfa_conn_t *c = &srv->conns[i];
        if (c->state == MFA_CONN_FREE) {
            continue;
        }
        short ev = 0;
        if (mfa_conn_wants_read(c)) {
            ev |= POLLIN;
        }
        if (mfa_conn_wants_write(c)) {
            ev |= POLLOUT;
        }
        // Even with no events asked for, poll() reports POLLHUP/POLLERR: a client that resets
        // while its request is with the application is noticed.
        t->fds[n].fd = fd_of(c);
        t->fds[n].events = ev;
        t->fds[n].revents = 0;
        t->slot[n] = (uint16_t)i;
        n++;
    }
    t->nfds = n;
}

#if MFA_POSIX_FILENO
// Bring the epoll set in line with what each connection waits for (only changes cost a
// syscall), and the eventfd with "a request is ready".
static void ep_sync(mfa_server_obj_t *srv, mfa_posix_t *t) {
    for (size_t i = 0; i < srv->pool.n; i++) {
        mfa_conn_t *c = &srv->conns[i];
        int fd = c->state == MFA_CONN_FREE ? -1 : fd_of(c);
        uint32_t ev = 0;
        if (fd >= 0) {
            ev = (mfa_conn_wants_read(c) ? EPOLLIN : 0) | (mfa_conn_wants_write(c) ? EPOLLOUT : 0);
        }
        if (fd == t->reg_fd[i] && (fd < 0 || ev == t->reg_ev[i])) {
            continue;
        }
        if (fd < 0) {
            if (t->reg_fd[i] >= 0) {
                epoll_ctl(t->epfd, EPOLL_CTL_DEL, t->reg_fd[i], NULL);
            }
            t->reg_fd[i] = -1;
            continue;
        }
        struct epoll_event e;
        memset(&e, 0, sizeof(e));
        e.events = ev;  // EPOLLHUP/EPOLLERR always: a reset while with the app shows too
        e.data.fd = fd;
        int op = fd == t->reg_fd[i] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(t->epfd, op, fd, &e) < 0) {
            epoll_ctl(t->epfd, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &e);
        }
        t->reg_fd[i] = fd;
        t->reg_ev[i] = ev;
    }
    bool ready = mfa_pool_has_ready(&srv->pool);
    if (ready != t->ev_set) {
        uint64_t v = 1;
        ssize_t r = ready ? write(t->evfd, &v, sizeof(v)) : read(t->evfd, &v, sizeof(v));
        (void)r;
        t->ev_set = ready;
    }
}

mp_int_t mfa_tr_fileno(mfa_server_obj_t *srv) {
    mfa_posix_t *t = srv->tr;
    if (t->epfd < 0) {
        int ep = epoll_create1(EPOLL_CLOEXEC);
        int ev = ep < 0 ? -1 : eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (ev < 0) {
            int e = errno;
            if (ep >= 0) {
                close(ep);
            }
            mp_raise_OSError(e);
        }
        struct epoll_event e;
        memset(&e, 0, sizeof(e));
        e.events = EPOLLIN;
        e.data.fd = t->lfd;
        epoll_ctl(ep, EPOLL_CTL_ADD, t->lfd, &e);
        e.data.fd = ev;
        epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e);
        t->reg_fd = m_new(int, srv->pool.n);
        t->reg_ev = m_new(uint32_t, srv->pool.n);
        for (size_t i = 0; i < srv->pool.n; i++) {
            t->reg_fd[i] = -1;
            t->reg_ev[i] = 0;
        }
        t->epfd = ep;
        t->evfd = ev;
        t->ev_set = false;
    }
    ep_sync(srv, t);
    return t->epfd;
}
#endif

void mfa_tr_step(mfa_server_obj_t *srv, uint32_t now) {
    mfa_posix_t *t = srv->tr;
    build_fds(srv, t);
    int r = poll(t->fds, (nfds_t)t->nfds, 0);
    if (r > 0) {
        for (size_t k = 1; k < t->nfds; k++) {
            short re = t->fds[k].revents;
            if (!re) {
                continue;
            }
            mfa_conn_t *c = &srv->conns[t->slot[k]];
            if (fd_of(c) != t->fds[k].fd || c->state == MFA_CONN_FREE) {
                continue;
            }
            unsigned ev = 0;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                ev |= MFA_EV_READ;
            }
            if (re & (POLLOUT | POLLERR | POLLHUP)) {
                ev |= MFA_EV_WRITE;
            }
            if ((re & (POLLERR | POLLNVAL | POLLHUP)) && !mfa_conn_wants_read(c) && !mfa_conn_wants_write(c)) {
                // Nothing to read or write that would tell us: the peer is gone (reset, or
                // both directions closed) while its request is with the application.
                srv->pool.stats.resets++;
                mfa_conn_close(&srv->pool, c, true);
                continue;
            }
            mfa_conn_service(&srv->pool, c, now, ev);
        }
        if (t->fds[0].revents & POLLIN) {
            do_accept(srv, t, now);
        }
    }
    // Timeouts for everyone (no I/O for connections without events).
    for (size_t i = 0; i < srv->pool.n; i++) {
        mfa_conn_service(&srv->pool, &srv->conns[i], now, 0);
    }
    #if MFA_POSIX_FILENO
    if (t->epfd >= 0) {
        ep_sync(srv, t);
    }
    #endif
}

void mfa_tr_output_queued(mfa_server_obj_t *srv) {
    #if MFA_POSIX_FILENO
    mfa_posix_t *t = srv->tr;
    if (t->epfd >= 0) {
        ep_sync(srv, t);  // EPOLLOUT for the connection: its socket's room wakes the loop
    }
    #else
    (void)srv;  // (poll() is built from mfa_conn_wants_write each time)
    #endif
}

bool mfa_tr_pending(mfa_server_obj_t *srv) {
    mfa_posix_t *t = srv->tr;
    build_fds(srv, t);
    return poll(t->fds, (nfds_t)t->nfds, 0) > 0;
}

void mfa_tr_wait(mfa_server_obj_t *srv, mp_int_t timeout_ms) {
    mfa_posix_t *t = srv->tr;
    build_fds(srv, t);
    int timeout = timeout_ms < 0 ? -1 : timeout_ms > INT_MAX ? INT_MAX : (int)timeout_ms;
    MP_THREAD_GIL_EXIT();
    int r = poll(t->fds, (nfds_t)t->nfds, timeout);
    MP_THREAD_GIL_ENTER();
    if (r < 0 && errno == EINTR) {
        mp_handle_pending(true);  // Ctrl-C: KeyboardInterrupt
    }
}

#endif // MFA_SERVER_POSIX

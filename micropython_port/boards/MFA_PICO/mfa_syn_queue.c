// A half-open connection flood cannot shut a listener: a SYN that finds the listen queue full
// takes the place of the oldest half-open connection of that listener, once that one has waited
// half a second.
//
// lwIP counts a connection against its listener's backlog from its SYN (SYN_RCVD) until the
// handshake ends, and drops a SYN that finds the backlog full without an answer
// (tcp_listen_input). A half-open connection stays for TCP_SYN_RCVD_TIMEOUT, 20 s. So a few
// spoofed SYNs (or clients that vanish mid-handshake) kept every real client's SYN unanswered
// for 20 s, then again, however free the server's pool was. Here the SYN is let in and the
// oldest half-open connection of that listener is reset instead: a real client finishes its
// handshake within one round trip, long before a flood can push it out.
//
// Only one that has waited MIN_AGE_TICKS or more is taken: a burst of real clients (eight
// browsers' connects at once, against a backlog of 4) fills the queue with handshakes that are
// about to finish, and resetting those would turn a SYN the client resends in a second into a
// failed connect. (Measured: with no minimum age, 20 of 40 concurrent POSTs in
// tests/net/test_emu_memory.py's rounds were reset.) A real SYN dropped that way is resent; by
// then the flood's half-open connections are old enough to give way.
//
// It runs as lwIP's LWIP_HOOK_TCP_INPACKET_PCB (mfa_lwipopts.h), inside tcp_input, for every
// segment to a pcb; only a SYN to a full listener costs more than two compares. Aborting
// another pcb there is safe: the active list is no longer being walked, and the aborted pcb
// goes through tcp_abandon like any other (its backlog count is given back, a RST is sent, it
// has no callbacks yet). It is board code, not part of _mfa, so both servers on the board (_mfa
// and the pure build's sockets) get it.

#include "lwip/opt.h"

#if LWIP_TCP && TCP_LISTEN_BACKLOG

#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"

// tcp_ticks count TCP_SLOW_INTERVAL (500 ms): 2 ticks is 0.5 to 1 s.
#define MIN_AGE_TICKS (2)

err_t mfa_syn_queue_hook(struct tcp_pcb *pcb, struct tcp_hdr *hdr, u16_t optlen, u16_t opt1len,
    u8_t *opt2, struct pbuf *p) {
    (void)optlen;
    (void)opt1len;
    (void)opt2;
    (void)p;
    if (pcb->state != LISTEN || (TCPH_FLAGS(hdr) & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) {
        return ERR_OK;
    }
    struct tcp_pcb_listen *lpcb = (struct tcp_pcb_listen *)pcb;
    if (lpcb->accepts_pending < lpcb->backlog) {
        return ERR_OK;
    }
    struct tcp_pcb *oldest = NULL;
    u32_t oldest_age = MIN_AGE_TICKS;
    for (struct tcp_pcb *q = tcp_active_pcbs; q != NULL; q = q->next) {
        u32_t age = tcp_ticks - q->tmr;
        if (q->state == SYN_RCVD && q->listener == lpcb && age >= oldest_age) {
            oldest = q;
            oldest_age = age;
        }
    }
    if (oldest != NULL) {
        tcp_abort(oldest);
    }
    return ERR_OK;
}

#endif

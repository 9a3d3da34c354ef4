// lwIP options for microfastapi boards (MFA_PICO, and MFA_PICO_W includes this file too, so what
// the emulator measures on MFA_PICO is what ships on the Pico W).
//
// ports/rp2's lwipopts.h includes extmod/lwip-include/lwipopts_common.h, which includes
// py/mpconfig.h -> mpconfigboard.h (this file) first: anything defined here wins over lwIP's
// opt.h defaults. lwipopts_common.h only sets MEM_SIZE, TCP_MSS, TCP_WND, TCP_SND_BUF and
// MEMP_NUM_TCP_SEG (as one block, under #ifndef MEM_SIZE); we keep that block as it is.
//
// Figures: tests/bench/emu_net_bench.py (MFA_PICO in rp2040py over SLIP at 3 Mbaud, simulated
// time). Each option says what it costs and what it measured.
#ifndef MFA_LWIPOPTS_H
#define MFA_LWIPOPTS_H

// TCP PCBs. lwIP's default is 5, below _mfa.Server's default pool of 8 (+ MFA_LWIP_EXTRA = 8
// slots that answer 503 and drain lingering closes, mfa_lwip.c): the 6th simultaneous client
// got no SYN-ACK at all (tcp_alloc only evicts pcbs of *lower* priority), i.e. a 3 s+ connect
// stall, then a timeout. 20 = 8 pool + 8 extra + 4 for TIME_WAIT and other sockets (lwIP
// recycles the oldest TIME_WAIT pcb when out). It was 16 while the extra slots were 4; with 8
// of them and 16 pcbs, rounds of 8 concurrent 16 KB POSTs (tests/net/test_emu_memory.py) saw
// clients time out on connect. Cost: each pcb is 192 bytes of .bss, which comes off the GC heap
// (with 16, 11 more than lwIP's 5: gc.mem_free() at boot 206,768 -> 204,656, -2,112 B; the 4
// more of 20: 4 x 192 B more, computed, not measured). Measured (emu_net_bench.py --mem): 8 keep-alive connections open at once
// are all served (with 5: the 6th connect timed out); request latency unchanged (below).
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB                (20)
#endif

// A SYN that finds a listener's backlog full of half-open connections replaces the oldest of
// them instead of going unanswered for 20 s (mfa_syn_queue.c, which says why). Measured:
// tests/net/test_emu_attack.py's SYN flood.
#if !defined(__ASSEMBLER__)
struct tcp_pcb;
struct tcp_hdr;
struct pbuf;
signed char mfa_syn_queue_hook(struct tcp_pcb *pcb, struct tcp_hdr *hdr, unsigned short optlen,
    unsigned short opt1len, unsigned char *opt2, struct pbuf *p);
#endif
#define LWIP_HOOK_TCP_INPACKET_PCB(pcb, hdr, optlen, opt1len, opt2, p) \
    mfa_syn_queue_hook(pcb, hdr, optlen, opt1len, opt2, p)

// Measured and deliberately left at MicroPython's values (emu_net_bench.py, n=10, GET / tiny JSON,
// device time from request in to response out, simulated):
//   _mfa keep-alive 2.69 ms (371 req/sim-s), Connection: close 3.22 ms incl. SYN->SYN-ACK
//   (311 req/sim-s); max 3.6 ms. No request ever waits for an lwIP timer: ports/rp2 runs
//   sys_check_timeouts every 64 ms (LWIP_TICK_RATE_MS, fixed in mpnetworkport.c, not a board
//   option) and TCP_TMR_INTERVAL is 250 ms, so a timer in the path would show as tens of ms.
//   Input is processed from the UART IRQ's PendSV, our replies go out with tcp_output at once,
//   and the ACK of the request rides on the reply.
// - TCP_TMR_INTERVAL: shorter only re-runs tcp_fasttmr/slowtmr (delayed ACK, retransmission,
//   TIME_WAIT) more often; it cannot run more often than the 64 ms tick; costs wake-ups.
// - TCP_MSS 800 / TCP_WND 8*MSS / TCP_SND_BUF 8*MSS / MEM_SIZE 8000 (lwipopts_common.h): our
//   replies up to 800 B fit one segment; _mfa's output buffer is 1460 B per write. A 1460 MSS
//   halves segments only for bigger bodies, and costs MEM_SIZE (pbufs) RAM: not worth it here.
// - Nagle: off per connection in mfa_lwip.c (tcp_nagle_disable), no global option needed.

#endif // MFA_LWIPOPTS_H

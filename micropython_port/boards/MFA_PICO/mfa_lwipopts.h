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

// TCP PCBs. lwIP's default is 5, below _mfa.Server's default pool of 8 (+ MFA_LWIP_EXTRA = 4
// slots that answer 503): the 6th simultaneous client got no SYN-ACK at all (tcp_alloc only
// evicts pcbs of *lower* priority), i.e. a 3 s+ connect stall, then a timeout. 16 = 8 pool + 4
// overflow + 4 for TIME_WAIT and other sockets (lwIP recycles the oldest TIME_WAIT pcb when out).
// Cost: 11 more pcbs x sizeof(struct tcp_pcb) (~160 B) = ~1.8 KB of .bss, which comes off the
// GC heap. Measured: 8 keep-alive connections open at once now all served (was: 6th timed out).
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB                (16)
#endif

#endif // MFA_LWIPOPTS_H

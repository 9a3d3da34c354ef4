// network.SLIP: an lwIP SLIP interface on a UART, for the MFA_PICO board.
//
// This is how MFA_PICO reaches the network: in the rp2040py emulator a host-side bridge
// (tests/net/slip_bridge.py) carries the SLIP bytes between the emulated UART and a TUN device;
// on a real Pico the UART is wired to a USB-serial adapter and the host runs `slattach`.
// It lives in the board, not in the _mfa user module, so that the pure-Python build of the
// same board (MFA_PICO-pure, no _mfa) has the same link and the two can be compared.
//
//     import network
//     nic = network.SLIP("192.168.7.2", "255.255.255.0", "192.168.7.1")   # link up, default route
//     nic.ifconfig(); nic.active(); nic.stats(); nic.active(False)
//
// Data path, and why nothing here calls Python:
// - RX: the UART interrupt drains the hardware FIFO into a ring buffer, then asks PendSV (the
//   level lwIP runs at on rp2, see ports/rp2/mpnetworkport.c) to run mfa_slip_pendsv(), which
//   hands the bytes to lwIP's slipif (slipif_poll -> sio_tryread) and so to ip_input.
//   The VM side takes the lwIP lock (MICROPY_PY_LWIP_ENTER = pendsv_suspend), so this never
//   runs in the middle of a VM-side lwIP call.
// - TX: slipif_output -> sio_send, one byte at a time into the UART TX FIFO (blocking only
//   while the 32-byte hardware FIFO is full, i.e. at line rate).
// - Soft reset deinits every UART (machine_uart_deinit_all), so MICROPY_BOARD_START_SOFT_RESET
//   calls mfa_slip_deinit() first: the netif is removed (lwIP aborts its TCP pcbs) and a later
//   network.SLIP(...) brings it up again.

#include <string.h>

#include "py/runtime.h"
#include "py/mphal.h"
#include "py/mperrno.h"
#include "shared/netutils/netutils.h"
#include "pendsv.h"

#include "hardware/gpio.h"
#include "hardware/irq.h"
#include "hardware/uart.h"

#include "lwip/netif.h"
#include "lwip/ip_addr.h"
#include "lwip/sio.h"
#include "lwip/ip.h"
#include "netif/slipif.h"

#if MICROPY_PY_LWIP

// Which UART carries SLIP and on which pins. UART0 on GP0 (TX) / GP1 (RX) by default: the REPL
// is on USB CDC, so UART0 is free (and rp2040py's bridge uses UART0).
#ifndef MFA_SLIP_UART_ID
#define MFA_SLIP_UART_ID (0)
#endif
#ifndef MFA_SLIP_TX_PIN
#define MFA_SLIP_TX_PIN (0)
#endif
#ifndef MFA_SLIP_RX_PIN
#define MFA_SLIP_RX_PIN (1)
#endif
// Default line rate. 3 Mbaud is within what common USB-serial adapters (FT232H, CP2102N) do;
// the emulator bridge paces host->device bytes at whatever rate the firmware programs.
#ifndef MFA_SLIP_BAUDRATE
#define MFA_SLIP_BAUDRATE (3000000)
#endif
// RX ring buffer between the UART IRQ and lwIP. Costs this much RAM; must hold what arrives
// while PendSV is held off by the VM (a few ms at most). Power of two.
#ifndef MFA_SLIP_RX_BUF
#define MFA_SLIP_RX_BUF (4096)
#endif

#define SLIP_UART (MFA_SLIP_UART_ID ? uart1 : uart0)
#define SLIP_UART_IRQ (MFA_SLIP_UART_ID ? UART1_IRQ : UART0_IRQ)

typedef struct _mfa_slip_obj_t {
    mp_obj_base_t base;
    struct netif netif;
    bool added;             // netif is in lwIP's list
    bool configured;        // last_* hold the addresses of the last network.SLIP(ip, ...)
    uint32_t baudrate;
    ip4_addr_t last_ip, last_mask, last_gw;  // for active(True) after active(False)
    // RX ring: written by the UART IRQ (head), read at PendSV level (tail).
    volatile uint32_t rx_head;
    volatile uint32_t rx_tail;
    uint8_t rx_buf[MFA_SLIP_RX_BUF];
    // Counters, for stats().
    volatile uint32_t rx_bytes;
    volatile uint32_t rx_dropped;
    uint32_t tx_bytes;
} mfa_slip_obj_t;

// One SLIP link per board: a static object, so it survives the GC and soft resets cleanly.
static mfa_slip_obj_t mfa_slip_obj;

extern const mp_obj_type_t mfa_slip_type;

// --- lwIP's serial layer (lwip/sio.h), used by netif/slipif.c ------------------------------

sio_fd_t sio_open(u8_t devnum) {
    (void)devnum;
    return (sio_fd_t)&mfa_slip_obj;
}

void sio_send(u8_t c, sio_fd_t fd) {
    (void)fd;
    if (!uart_is_enabled(SLIP_UART)) {
        return; // link down (e.g. during soft reset): drop, never block on a dead UART
    }
    uart_putc_raw(SLIP_UART, c);
    mfa_slip_obj.tx_bytes++;
}

u32_t sio_tryread(sio_fd_t fd, u8_t *data, u32_t len) {
    (void)fd;
    mfa_slip_obj_t *s = &mfa_slip_obj;
    u32_t n = 0;
    uint32_t tail = s->rx_tail;
    while (n < len && tail != s->rx_head) {
        data[n++] = s->rx_buf[tail & (MFA_SLIP_RX_BUF - 1)];
        tail++;
    }
    s->rx_tail = tail;
    return n;
}

// --- RX path --------------------------------------------------------------------------------

// PendSV level: feed buffered bytes to slipif, which calls netif->input for each whole frame.
static void mfa_slip_pendsv(void) {
    if (mfa_slip_obj.added) {
        slipif_poll(&mfa_slip_obj.netif);
    } else {
        mfa_slip_obj.rx_tail = mfa_slip_obj.rx_head;
    }
}

// UART IRQ: move bytes out of the 32-byte hardware FIFO, then hand over to PendSV.
static void mfa_slip_uart_irq(void) {
    mfa_slip_obj_t *s = &mfa_slip_obj;
    uart_hw_t *hw = uart_get_hw(SLIP_UART);
    uint32_t head = s->rx_head;
    while (!(hw->fr & UART_UARTFR_RXFE_BITS)) {
        uint8_t c = (uint8_t)hw->dr;
        if (head - s->rx_tail < MFA_SLIP_RX_BUF) {
            s->rx_buf[head & (MFA_SLIP_RX_BUF - 1)] = c;
            head++;
            s->rx_bytes++;
        } else {
            s->rx_dropped++; // lwIP fell behind: drop, TCP will retransmit
        }
    }
    s->rx_head = head;
    pendsv_schedule_dispatch(PENDSV_DISPATCH_MFA_SLIP, mfa_slip_pendsv);
}

static void mfa_slip_uart_start(uint32_t baudrate) {
    uart_inst_t *u = SLIP_UART;
    mfa_slip_obj.baudrate = uart_init(u, baudrate);
    uart_set_format(u, 8, 1, UART_PARITY_NONE);
    uart_set_hw_flow(u, false, false);
    uart_set_fifo_enabled(u, true);
    gpio_set_function(MFA_SLIP_TX_PIN, UART_FUNCSEL_NUM(u, MFA_SLIP_TX_PIN));
    gpio_set_function(MFA_SLIP_RX_PIN, UART_FUNCSEL_NUM(u, MFA_SLIP_RX_PIN));
    mfa_slip_obj.rx_head = mfa_slip_obj.rx_tail = 0;
    irq_set_exclusive_handler(SLIP_UART_IRQ, mfa_slip_uart_irq);
    irq_set_enabled(SLIP_UART_IRQ, true);
    uart_set_irqs_enabled(u, true, false);
}

static void mfa_slip_uart_stop(void) {
    uart_set_irqs_enabled(SLIP_UART, false, false);
    irq_set_enabled(SLIP_UART_IRQ, false);
    irq_remove_handler(SLIP_UART_IRQ, mfa_slip_uart_irq);
    uart_deinit(SLIP_UART);
}

static void mfa_slip_down(void) {
    if (mfa_slip_obj.added) {
        MICROPY_PY_LWIP_ENTER
        netif_set_down(&mfa_slip_obj.netif);
        netif_remove(&mfa_slip_obj.netif);
        mfa_slip_obj.added = false;
        MICROPY_PY_LWIP_EXIT
        mfa_slip_uart_stop();
    }
}

// Called by MICROPY_BOARD_START_SOFT_RESET (mpconfigboard.h), before the UARTs are deinited.
void mfa_slip_deinit(void) {
    mfa_slip_down();
}

// --- Python API -----------------------------------------------------------------------------

static void mfa_slip_parse_ip(mp_obj_t arg, ip4_addr_t *out) {
    ip_addr_t a;
    if (!ipaddr_aton(mp_obj_str_get_str(arg), &a) || !IP_IS_V4(&a)) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid IPv4 address"));
    }
    ip4_addr_copy(*out, *ip_2_ip4(&a));
}

static void mfa_slip_up(mfa_slip_obj_t *self, const ip4_addr_t *ip, const ip4_addr_t *mask,
    const ip4_addr_t *gw, uint32_t baudrate) {
    ip4_addr_copy(self->last_ip, *ip);
    ip4_addr_copy(self->last_mask, *mask);
    ip4_addr_copy(self->last_gw, *gw);
    self->baudrate = baudrate;
    self->configured = true;
    if (self->added) {
        MICROPY_PY_LWIP_ENTER
        netif_set_addr(&self->netif, ip, mask, gw);
        MICROPY_PY_LWIP_EXIT
        return;
    }
    mfa_slip_uart_start(baudrate);
    MICROPY_PY_LWIP_ENTER
    // state = sio device number 0 (slipif_init passes it to sio_open).
    if (netif_add(&self->netif, ip, mask, gw, NULL, slipif_init, ip_input) == NULL) {
        MICROPY_PY_LWIP_EXIT
        mfa_slip_uart_stop();
        mp_raise_OSError(MP_ENOMEM);
    }
    self->netif.name[0] = 's';
    self->netif.name[1] = 'l';
    netif_set_default(&self->netif);
    netif_set_up(&self->netif);
    netif_set_link_up(&self->netif);
    self->added = true;
    MICROPY_PY_LWIP_EXIT
}

// network.SLIP(ip, netmask="255.255.255.0", gw=None, *, baudrate=MFA_SLIP_BAUDRATE)
// Brings the link up (or changes its addresses) and returns the singleton SLIP object.
// With no arguments, returns the object without touching the link.
static mp_obj_t mfa_slip_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_ip, ARG_netmask, ARG_gw, ARG_baudrate };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_ip, MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_netmask, MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_gw, MP_ARG_OBJ, {.u_obj = mp_const_none} },
        { MP_QSTR_baudrate, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = MFA_SLIP_BAUDRATE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mfa_slip_obj_t *self = &mfa_slip_obj;
    self->base.type = &mfa_slip_type;
    if (args[ARG_ip].u_obj != mp_const_none) {
        ip4_addr_t ip, mask, gw;
        mfa_slip_parse_ip(args[ARG_ip].u_obj, &ip);
        IP4_ADDR(&mask, 255, 255, 255, 0);
        ip4_addr_set_zero(&gw);
        if (args[ARG_netmask].u_obj != mp_const_none) {
            mfa_slip_parse_ip(args[ARG_netmask].u_obj, &mask);
        }
        if (args[ARG_gw].u_obj != mp_const_none) {
            mfa_slip_parse_ip(args[ARG_gw].u_obj, &gw);
        }
        mfa_slip_up(self, &ip, &mask, &gw, args[ARG_baudrate].u_int);
    }
    return MP_OBJ_FROM_PTR(self);
}

// active() -> bool; active(False) takes the link down (lwIP aborts the TCP connections bound
// to its address); active(True) brings it up again with the last addresses given to the
// constructor (ValueError if there were none).
static mp_obj_t mfa_slip_active(size_t n_args, const mp_obj_t *args) {
    mfa_slip_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    if (n_args > 1) {
        if (!mp_obj_is_true(args[1])) {
            mfa_slip_down();
        } else if (!self->added) {
            if (!self->configured) {
                mp_raise_ValueError(MP_ERROR_TEXT("use network.SLIP(ip, netmask, gw)"));
            }
            ip4_addr_t ip = self->last_ip, mask = self->last_mask, gw = self->last_gw;
            mfa_slip_up(self, &ip, &mask, &gw, self->baudrate);
        }
        return mp_const_none;
    }
    return mp_obj_new_bool(self->added);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_slip_active_obj, 1, 2, mfa_slip_active);

static mp_obj_t mfa_slip_isconnected(mp_obj_t self_in) {
    mfa_slip_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(self->added && netif_is_up(&self->netif));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_slip_isconnected_obj, mfa_slip_isconnected);

// ifconfig() -> (ip, netmask, gw, dns), like network.WLAN.ifconfig().
static mp_obj_t mfa_slip_ifconfig(size_t n_args, const mp_obj_t *args) {
    mfa_slip_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    if (n_args > 1) {
        mp_obj_t *items;
        mp_obj_get_array_fixed_n(args[1], 4, &items);
        ip4_addr_t ip, mask, gw;
        mfa_slip_parse_ip(items[0], &ip);
        mfa_slip_parse_ip(items[1], &mask);
        mfa_slip_parse_ip(items[2], &gw);
        mfa_slip_up(self, &ip, &mask, &gw, self->baudrate ? self->baudrate : MFA_SLIP_BAUDRATE);
        return mp_const_none;
    }
    char buf[IP4ADDR_STRLEN_MAX];
    mp_obj_t tuple[4];
    const ip4_addr_t *addrs[3] = {
        netif_ip4_addr(&self->netif), netif_ip4_netmask(&self->netif), netif_ip4_gw(&self->netif)
    };
    for (int i = 0; i < 3; i++) {
        ip4addr_ntoa_r(addrs[i], buf, sizeof(buf));
        tuple[i] = mp_obj_new_str(buf, strlen(buf));
    }
    tuple[3] = mp_obj_new_str("0.0.0.0", 7);
    return mp_obj_new_tuple(4, tuple);
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_slip_ifconfig_obj, 1, 2, mfa_slip_ifconfig);

// stats() -> dict of link counters (bytes after SLIP framing).
static mp_obj_t mfa_slip_stats(mp_obj_t self_in) {
    mfa_slip_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t d = mp_obj_new_dict(5);
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_rx_bytes), mp_obj_new_int_from_uint(self->rx_bytes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_rx_dropped), mp_obj_new_int_from_uint(self->rx_dropped));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_tx_bytes), mp_obj_new_int_from_uint(self->tx_bytes));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_baudrate), mp_obj_new_int_from_uint(self->baudrate));
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(MP_QSTR_uart), MP_OBJ_NEW_SMALL_INT(MFA_SLIP_UART_ID));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_slip_stats_obj, mfa_slip_stats);

static const mp_rom_map_elem_t mfa_slip_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_active), MP_ROM_PTR(&mfa_slip_active_obj) },
    { MP_ROM_QSTR(MP_QSTR_isconnected), MP_ROM_PTR(&mfa_slip_isconnected_obj) },
    { MP_ROM_QSTR(MP_QSTR_ifconfig), MP_ROM_PTR(&mfa_slip_ifconfig_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&mfa_slip_stats_obj) },
};
static MP_DEFINE_CONST_DICT(mfa_slip_locals_dict, mfa_slip_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_slip_type,
    MP_QSTR_SLIP,
    MP_TYPE_FLAG_NONE,
    make_new, mfa_slip_make_new,
    locals_dict, &mfa_slip_locals_dict
    );

#endif // MICROPY_PY_LWIP

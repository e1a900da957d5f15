/* SPDX-License-Identifier: MIT */
/*
 * ports.c - `fieldctl ports`: the serial ports of this machine as libserialport sees them,
 * with the USB details a person needs to pick the RS-485 adapter (VID:PID, manufacturer,
 * product, serial number) and the adapter's chip when drivers/adapters.h knows it. This is
 * the only place fieldctl calls libserialport, so its SP_ERR_* convention is translated here.
 */
#include "fieldctl.h"

#include "acs_error.h"
#include "adapters.h"
#include "errbuf.h"

#include <jansson.h>
#include <libserialport.h>
#include <stdio.h>
#include <stdlib.h>

int fieldctl_sp_error(int sp_result, const char *what, char *err, size_t errlen)
{
    char *msg;
    switch (sp_result) {
    case SP_OK:
        return 0;
    case SP_ERR_ARG:
        errbuf_printf(err, errlen,
                      "%s: libserialport refused the arguments (a bug in fieldctl: "
                      "please report it)",
                      what);
        return ACS_EINVAL;
    case SP_ERR_MEM:
        errbuf_printf(err, errlen, "%s: out of memory", what);
        return ACS_ENOMEM;
    case SP_ERR_SUPP:
        errbuf_printf(err, errlen,
                      "%s: not supported on this system by libserialport "
                      "(list /dev/serial/by-id/ instead)",
                      what);
        return ACS_EIO;
    case SP_ERR_FAIL:
    default:
        msg = sp_last_error_message();
        errbuf_printf(err, errlen, "%s failed: %s (check that /sys/class/tty is readable)", what,
                      msg != NULL ? msg : "unknown system error");
        sp_free_error_message(msg);
        return ACS_EIO;
    }
}

static const char *transport_name(enum sp_transport tr)
{
    switch (tr) {
    case SP_TRANSPORT_USB:
        return "USB";
    case SP_TRANSPORT_BLUETOOTH:
        return "Bluetooth";
    case SP_TRANSPORT_NATIVE:
    default:
        return "native";
    }
}

/* libserialport returns NULL for a string it does not know; a listing shows "". */
static const char *str(const char *s)
{
    return s != NULL ? s : "";
}

int fieldctl_ports(int json, char *err, size_t errlen)
{
    struct sp_port **list = NULL;
    json_t *arr = NULL;
    int rc = fieldctl_sp_error(sp_list_ports(&list), "listing the serial ports", err, errlen);
    if (rc != 0)
        goto fail;
    if (json && (arr = json_array()) == NULL) {
        rc = ACS_ENOMEM;
        errbuf_printf(err, errlen, "listing the serial ports: out of memory");
        goto fail;
    }
    size_t n = 0;
    for (; list[n] != NULL; n++) {
        struct sp_port *p = list[n];
        enum sp_transport tr = sp_get_port_transport(p);
        int vid = -1, pid = -1;
        char label[96] = "";
        char vidpid[16] = "";
        if (tr == SP_TRANSPORT_USB && sp_get_port_usb_vid_pid(p, &vid, &pid) == SP_OK && vid >= 0 &&
            pid >= 0) {
            errbuf_printf(vidpid, sizeof(vidpid), "%04x:%04x", (unsigned)vid & 0xffffu,
                          (unsigned)pid & 0xffffu);
            /* An unknown chip keeps an empty label; a label longer than the buffer cannot
             * happen with the shipped table, and a truncated one is still readable. */
            (void)adapter_label((uint16_t)vid, (uint16_t)pid, label, sizeof(label));
        }
        const char *manufacturer = tr == SP_TRANSPORT_USB ? sp_get_port_usb_manufacturer(p) : NULL;
        const char *product = tr == SP_TRANSPORT_USB ? sp_get_port_usb_product(p) : NULL;
        const char *serial = tr == SP_TRANSPORT_USB ? sp_get_port_usb_serial(p) : NULL;
        if (arr != NULL) {
            json_array_append_new(
                arr,
                json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:s?, s:b, s:s?}", "name",
                          str(sp_get_port_name(p)), "description", str(sp_get_port_description(p)),
                          "transport", transport_name(tr), "usb_id", vidpid[0] ? vidpid : NULL,
                          "manufacturer", manufacturer, "product", product, "serial", serial,
                          "rs485_adapter", label[0] != '\0', "adapter", label[0] ? label : NULL));
        } else {
            printf("%s: %s, %s", str(sp_get_port_name(p)), str(sp_get_port_description(p)),
                   transport_name(tr));
            if (vidpid[0])
                printf(" %s", vidpid);
            if (manufacturer != NULL || product != NULL)
                printf(", %s %s", str(manufacturer), str(product));
            if (serial != NULL)
                printf(", serial %s", serial);
            if (label[0])
                printf(" - %s", label);
            putchar('\n');
        }
    }
    if (arr != NULL) {
        char *s = json_dumps(arr, JSON_INDENT(2));
        if (s == NULL) {
            rc = ACS_ENOMEM;
            errbuf_printf(err, errlen, "listing the serial ports: out of memory");
            goto fail;
        }
        printf("%s\n", s);
        free(s);
        if (n == 0)
            fprintf(stderr, "no serial ports found\n");
    } else if (n == 0) {
        printf("no serial ports found\n");
    }
fail:
    json_decref(arr);
    if (list != NULL)
        sp_free_port_list(list);
    return rc;
}

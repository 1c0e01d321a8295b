/*
 * LD_PRELOAD shim used only by capture.sh to make a real OpenVPN 2.6 peer derive data keys
 * with the legacy key-method-2 PRF instead of the TLS exporter: it intercepts BIO_write (which
 * OpenVPN's ssl_openssl.c bio_write() calls with TLS plaintext) and, in the key-method-2
 * record's peer-info, rewrites "IV_PROTO=<n>" to the same number of digits with the bits in
 * $OVPN_SHIM_CLEAR_BITS cleared (8 = TLS_KEY_EXPORT, 512 = DYN_TLS_CRYPT, 2 = DATA_V2).
 * Both peers then fall back to the PRF, as they would with a RouterOS or OpenVPN 2.5 peer.
 * Build: cc -shared -fPIC -o iv_proto_shim.so iv_proto_shim.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*bio_write_fn)(void *, const void *, int);

int BIO_write(void *bio, const void *data, int dlen)
{
    static bio_write_fn real;
    if (!real)
    {
        real = (bio_write_fn) dlsym(RTLD_NEXT, "BIO_write");
    }
    const char *env = getenv("OVPN_SHIM_CLEAR_BITS");
    if (env && data && dlen > 0 && dlen < 65536)
    {
        const char *key = "IV_PROTO=";
        const char *p = memmem(data, (size_t) dlen, key, strlen(key));
        if (p)
        {
            char *copy = malloc((size_t) dlen);
            memcpy(copy, data, (size_t) dlen);
            char *num = copy + (p - (const char *) data) + strlen(key);
            char *end = num;
            while (end < copy + dlen && *end >= '0' && *end <= '9')
            {
                end++;
            }
            int width = (int) (end - num);
            char saved = *end;
            *end = 0;
            long value = strtol(num, NULL, 10) & ~strtol(env, NULL, 10);
            char tmp[32];
            snprintf(tmp, sizeof(tmp), "%0*ld", width, value);
            memcpy(num, tmp, (size_t) width);
            *end = saved;
            fprintf(stderr, "iv_proto_shim: IV_PROTO rewritten to %.*s\n", width, num);
            int ret = real(bio, copy, dlen);
            free(copy);
            return ret;
        }
    }
    return real(bio, data, dlen);
}

/* Hexadecimal as tinc writes it: uppercase out, either case in. */
#ifndef FQTINC_HEX_H
#define FQTINC_HEX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* 0..15 for a hex digit of either case, -1 for anything else (no locale). */
int hex_digit_value(char c);

/* Writes 2*len characters plus a NUL; out must hold 2*len+1 bytes. */
void bin2hex(const uint8_t *in, size_t len, char *out);
/* Decodes the whole string; returns the byte count, or -1 if the string has
 * odd length, a non-hex character, or would not fit in outsize bytes. */
ssize_t hex2bin(const char *in, uint8_t *out, size_t outsize);

#endif

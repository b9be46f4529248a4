#include "util/compat.h"

#include "util/hex.h"

static const char hexdigits[16] = "0123456789ABCDEF";

void bin2hex(const uint8_t *in, size_t len, char *out) {
	for(size_t i = 0; i < len; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0F];
	}
	out[2 * len] = '\0';
}

/* -1 for anything that is not a hex digit; locale-independent on purpose,
 * since the input comes off the network. */
int hex_digit_value(char c) {
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

ssize_t hex2bin(const char *in, uint8_t *out, size_t outsize) {
	size_t n = 0;
	while(in[2 * n] != '\0') {
		if(in[2 * n + 1] == '\0' || n >= outsize)
			return -1;
		int hi = hex_digit_value(in[2 * n]), lo = hex_digit_value(in[2 * n + 1]);
		if(hi < 0 || lo < 0)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | lo);
	}
	return (ssize_t)n;
}

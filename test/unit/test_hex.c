#include "util/compat.h"

#include "util/hex.h"
#include "unit.h"

int main(void) {
	char text[64];
	uint8_t bin[32];

	const uint8_t sample[] = {0x00, 0x01, 0x7F, 0x80, 0xAB, 0xCD, 0xEF, 0xFF};
	bin2hex(sample, sizeof(sample), text);
	CHECK_EQ_STR(text, "00017F80ABCDEFFF");

	bin2hex(sample, 0, text);
	CHECK_EQ_STR(text, "");

	/* Either case decodes; the result is the original bytes. */
	CHECK_EQ_INT(hex2bin("00017f80AbCdEFff", bin, sizeof(bin)), 8);
	CHECK(!memcmp(bin, sample, sizeof(sample)));

	/* Round trip of every byte value. */
	uint8_t all[256], back[256];
	char alltext[513];
	for(int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	bin2hex(all, sizeof(all), alltext);
	CHECK_EQ_INT(strlen(alltext), 512);
	CHECK(!strncmp(alltext, "000102030405060708090A0B0C0D0E0F10", 34));
	CHECK(!strcmp(alltext + 500, "FAFBFCFDFEFF"));
	CHECK_EQ_INT(hex2bin(alltext, back, sizeof(back)), 256);
	CHECK(!memcmp(all, back, sizeof(all)));

	CHECK_EQ_INT(hex2bin("", bin, sizeof(bin)), 0);
	CHECK_EQ_INT(hex2bin("ABC", bin, sizeof(bin)), -1);     /* odd length */
	CHECK_EQ_INT(hex2bin("0G", bin, sizeof(bin)), -1);      /* not hex */
	CHECK_EQ_INT(hex2bin("0x12", bin, sizeof(bin)), -1);
	CHECK_EQ_INT(hex2bin(" 12", bin, sizeof(bin)), -1);
	CHECK_EQ_INT(hex2bin("1234", bin, 2), 2);               /* exactly fits */
	CHECK_EQ_INT(hex2bin("123456", bin, 2), -1);            /* would not fit */
	CHECK_EQ_INT(hex2bin("12", bin, 0), -1);

	return unit_done();
}

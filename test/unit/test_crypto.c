#include "util/compat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "packet/crypto.h"
#include "util/hex.h"
#include "util/log.h"
#include "packet/packet_codec.h"
#include "unit.h"

static char tmpdir[64];

static char *path_in_tmp(const char *name) {
	static char buf[4][256];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static void write_text(const char *path, const char *text, mode_t mode) {
	FILE *f = fopen(path, "w");
	if(!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static char *slurp(const char *path) {
	static char buf[16384];
	FILE *f = fopen(path, "r");
	if(!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

#define STARTS_WITH(text, lit) ((text) && !strncmp((text), (lit), strlen(lit)))

static size_t count_substr(const char *hay, const char *needle) {
	size_t n = 0;
	for(const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void unhex(const char *hex, uint8_t *out, size_t len) {
	if(hex2bin(hex, out, len) != (ssize_t)len) {
		fprintf(stderr, "bad test vector %s\n", hex);
		exit(2);
	}
}

/* ---- algorithm lookup ---- */

static void test_lookup(void) {
	cipher_info_t ci;
	digest_info_t di;
	char err[512];

	CHECK(cipher_by_name("aes-256-cbc", &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.nid, 427);
	CHECK_EQ_INT(ci.keylen, 32);
	CHECK_EQ_INT(ci.ivlen, 16);
	CHECK_EQ_INT(ci.blocklen, 16);
	CHECK(cipher_by_name("AES-128-CBC", &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.nid, 419);
	CHECK_EQ_INT(ci.keylen, 16);
	CHECK(cipher_by_name("aes-256-cfb", &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.nid, 429);
	CHECK_EQ_INT(ci.blocklen, 1);
	CHECK(cipher_by_nid(423, &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.keylen, 24);
	CHECK(cipher_by_name("none", &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.nid, 0);
	CHECK_EQ_INT(ci.keylen, 0);
	CHECK(cipher_by_nid(0, &ci, err, sizeof(err)));
	CHECK_EQ_INT(ci.nid, 0);

	err[0] = '\0';
	CHECK(!cipher_by_name("no-such-cipher", &ci, err, sizeof(err)));
	CHECK(strstr(err, "no-such-cipher") != NULL);
	CHECK(!cipher_by_nid(99999, &ci, err, sizeof(err)));
	CHECK(strstr(err, "99999") != NULL);

	/* Blowfish needs OpenSSL's legacy provider, normally not loaded (the
	 * child in test_legacy_provider loads it). */
	EVP_CIPHER *bf = EVP_CIPHER_fetch(NULL, "BF-CBC", NULL);
	ERR_clear_error();
	if(bf) {
		printf("note: the legacy provider is active in this environment\n");
		CHECK(cipher_by_name("blowfish", &ci, err, sizeof(err)));
		CHECK_EQ_INT(ci.nid, 91);
		EVP_CIPHER_free(bf);
	} else {
		err[0] = '\0';
		CHECK(!cipher_by_name("blowfish", &ci, err, sizeof(err)));
		CHECK(strstr(err, "blowfish") != NULL);
		CHECK(strstr(err, "legacy") != NULL);
		CHECK(strstr(err, "OPENSSL_CONF") != NULL);
		err[0] = '\0';
		CHECK(!cipher_by_nid(91, &ci, err, sizeof(err)));
		CHECK(strstr(err, "BF-CBC") != NULL);
		CHECK(strstr(err, "legacy") != NULL);
	}

	CHECK(digest_by_name("sha256", &di, err, sizeof(err)));
	CHECK_EQ_INT(di.nid, 672);
	CHECK_EQ_INT(di.length, 32);
	CHECK(digest_by_name("sha1", &di, err, sizeof(err)));
	CHECK_EQ_INT(di.nid, 64);
	CHECK_EQ_INT(di.length, 20);
	CHECK(digest_by_nid(674, &di, err, sizeof(err)));
	CHECK_EQ_INT(di.length, 64);
	CHECK(digest_by_name("none", &di, err, sizeof(err)));
	CHECK_EQ_INT(di.nid, 0);
	CHECK(!digest_by_name("no-such-digest", &di, err, sizeof(err)));
	CHECK(!digest_by_nid(427, &di, err, sizeof(err))); /* a cipher, not a digest */

	CHECK_EQ_INT(meta_cipher_nid_for_keylen(0), 421);
	CHECK_EQ_INT(meta_cipher_nid_for_keylen(16), 421);
	CHECK_EQ_INT(meta_cipher_nid_for_keylen(17), 425);
	CHECK_EQ_INT(meta_cipher_nid_for_keylen(24), 425);
	CHECK_EQ_INT(meta_cipher_nid_for_keylen(25), 429);
	CHECK_EQ_INT(meta_cipher_nid_for_keylen(32), 429);
}

static void test_digest_and_random(void) {
	uint8_t out[64], expect[64];
	size_t outlen = 0;
	char hex[129];

	CHECK(digest_oneshot(672, "abc", 3, out, &outlen));
	CHECK_EQ_INT(outlen, 32);
	bin2hex(out, outlen, hex);
	CHECK_EQ_STR(hex, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
	CHECK(digest_oneshot(64, "abc", 3, out, &outlen));
	CHECK_EQ_INT(outlen, 20);
	unhex("A9993E364706816ABA3E25717850C26C9CD0D89D", expect, 20);
	CHECK(!memcmp(out, expect, 20));
	CHECK(!digest_oneshot(0, "abc", 3, out, &outlen));
	CHECK(!digest_oneshot(99999, "abc", 3, out, &outlen));

	uint8_t a[32] = {0}, b[32] = {0}, zero[32] = {0};
	randomize(a, sizeof(a));
	randomize(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
}

/* ---- meta stream cipher: protocol.md §11.3 ---- */

static const char meta_tail_hex[] =
	"D1A2EA61DA7D929CE139EF3D2503BE23" "8B3FEC3468BBD746623768285005CCCA4B59B16F76B113E7A1AFCD118D4A9164";
static const char meta_cipher_hex[] =
	"202E43033C88D193491020664BC83E550E379C5CF547A536E2987E2D2EC6633B";
static const char meta_plain[] = "2 6C6BCC1D80DCE0BA199B91CA09C214";

static void test_meta_stream(void) {
	uint8_t material[256], ct[32], buf[32];
	char err[256];
	/* Only the last 48 bytes matter for AES-256: key = last 32, IV = 16 before. */
	memset(material, 0xA5, sizeof(material));
	unhex("3401B681A7FC7907E2F1B7BB96CE260E", material, 16);
	unhex(meta_tail_hex, material + 208, 48);
	unhex(meta_cipher_hex, ct, 32);
	CHECK_EQ_INT(strlen(meta_plain), 32);

	stream_cipher_t *dec = stream_cipher_new(429, material, sizeof(material), false, err, sizeof(err));
	CHECK(dec != NULL);
	if(dec) {
		/* A continuous stream: splitting at odd places changes nothing. */
		CHECK(stream_cipher_update(dec, ct, 5, buf));
		CHECK(stream_cipher_update(dec, ct + 5, 27, buf + 5));
		CHECK(!memcmp(buf, meta_plain, 32));
		stream_cipher_free(dec);
	}

	stream_cipher_t *enc = stream_cipher_new(429, material, sizeof(material), true, err, sizeof(err));
	CHECK(enc != NULL);
	if(enc) {
		memcpy(buf, meta_plain, 32);
		CHECK(stream_cipher_update(enc, buf, 17, buf)); /* in place */
		CHECK(stream_cipher_update(enc, buf + 17, 15, buf + 17));
		CHECK(!memcmp(buf, ct, 32));
		stream_cipher_free(enc);
	}

	/* Changing a byte before the key+IV region must not matter... */
	material[0] ^= 0xFF;
	material[207] ^= 0xFF;
	dec = stream_cipher_new(429, material, sizeof(material), false, err, sizeof(err));
	CHECK(dec && stream_cipher_update(dec, ct, 32, buf) && !memcmp(buf, meta_plain, 32));
	stream_cipher_free(dec);
	/* ...but a byte of the IV does. */
	material[208] ^= 0x01;
	dec = stream_cipher_new(429, material, sizeof(material), false, err, sizeof(err));
	CHECK(dec && stream_cipher_update(dec, ct, 32, buf) && memcmp(buf, meta_plain, 32) != 0);
	stream_cipher_free(dec);

	CHECK(stream_cipher_new(0, material, sizeof(material), true, err, sizeof(err)) == NULL);
	CHECK(stream_cipher_new(427, material, sizeof(material), true, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "stream") != NULL);
	CHECK(stream_cipher_new(901, material, sizeof(material), true, err, sizeof(err)) == NULL);
	CHECK(stream_cipher_new(429, material, 47, true, err, sizeof(err)) == NULL);
	CHECK(stream_cipher_new(99999, material, sizeof(material), true, err, sizeof(err)) == NULL);
	/* 48 bytes is exactly enough. */
	enc = stream_cipher_new(429, material + 208, 48, true, err, sizeof(err));
	CHECK(enc != NULL);
	stream_cipher_free(enc);
	stream_cipher_free(NULL);
}

/* ---- RSA ---- */

/* A throw-away 512-bit key with e = 0xFFFF (as the obsolete hex options
 * force), made with an independent implementation, and m^e mod n. */
static const char hex_n[] =
	"D6BA681E1C415204F2DB7F0E2F2952A10DA6BFC9335A7617AE5C738B333F94E3"
	"06B0875ED69E59E20F70DEAE97DF141F2B953745E4242C4C5D27DCF8B6E0C6C7";
static const char hex_d[] = /* odd length on purpose */
	"3890F35E61EFD6FB04B4B6FD0389763DC346606BF0E3155EF25D6D0D685D7825"
	"8A86C6855A8FA0A607076290CE66AEB88FD3BC1C2D7B1E0C9D1D525A379B85F";
static const char hex_m[] =
	"1234000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D"
	"1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D";
static const char hex_c[] =
	"2002459D7BDC2048C018FB5E4775AD1E7D7DB2E870B6F912A70EA625C7EDDADA"
	"242A5A6E917EF11CFE7F3ECB2D812125A992C582D6B383D7B13F125364F0D56F";

static void test_rsa_hex(void) {
	char err[256];
	uint8_t m[64], c[64], out[64];
	unhex(hex_m, m, 64);
	unhex(hex_c, c, 64);

	rsa_key_t *priv = rsa_from_hex(hex_n, hex_d, err, sizeof(err));
	CHECK(priv != NULL);
	if(priv) {
		CHECK_EQ_INT(rsa_size(priv), 64);
		CHECK(rsa_public_encrypt_raw(priv, m, out));
		CHECK(!memcmp(out, c, 64));
		CHECK(rsa_private_decrypt_raw(priv, c, out));
		CHECK(!memcmp(out, m, 64));
		rsa_free(priv);
	}
	/* Lower-case hex is fine too. */
	char lower[sizeof(hex_n)];
	for(size_t i = 0; i < sizeof(hex_n); i++)
		lower[i] = (char)(hex_n[i] >= 'A' && hex_n[i] <= 'F' ? hex_n[i] + 32 : hex_n[i]);
	rsa_key_t *pub = rsa_from_hex(lower, NULL, err, sizeof(err));
	CHECK(pub != NULL);
	if(pub) {
		CHECK(rsa_public_encrypt_raw(pub, m, out));
		CHECK(!memcmp(out, c, 64));
		CHECK(!rsa_private_decrypt_raw(pub, c, out));
		rsa_free(pub);
	}
	CHECK(rsa_from_hex("XYZ", NULL, err, sizeof(err)) == NULL);
	CHECK(rsa_from_hex("", NULL, err, sizeof(err)) == NULL);
	CHECK(rsa_from_hex(hex_n, "12G4", err, sizeof(err)) == NULL);
}

/* Written by tincd 1.0.36 -K1024 run twice: the first key disabled, then
 * the second appended. */
static const char tinc_host_file[] =
	"Subnet = 10.0.0.1/32\n"
	"Address = 1.2.3.4\n"
	"\n"
	"-----BEGIN OLD PUBLIC KEY-----\n"
	"MIGJAoGBANRydlj8osRvVXlx+7X5bkyQGlP5RIMkfIyY8HatFUeHofPTcXkcOjbj\n"
	"PrZ6wuiPvQmoN216jihNbAOlmRQAPynoCy/lMwD0yT6nw1LUJYX7dc1NU8NdvT8f\n"
	"x07TDdGOol1tt/YHII8VQZ0T7h77lof6u7q+4cUu1F+o/oFGRXfPAgMBAAE=\n"
	"-----END OLD PUBLIC KEY-----\n"
	"\n"
	"-----BEGIN OLD RSA PUBLIC KEY-----\n" /* the other spelling of a disabled block */
	"MIGJAoGBANRydlj8osRvVXlx+7X5bkyQGlP5RIMkfIyY8HatFUeHofPTcXkcOjbj\n"
	"PrZ6wuiPvQmoN216jihNbAOlmRQAPynoCy/lMwD0yT6nw1LUJYX7dc1NU8NdvT8f\n"
	"x07TDdGOol1tt/YHII8VQZ0T7h77lof6u7q+4cUu1F+o/oFGRXfPAgMBAAE=\n"
	"-----END OLD RSA PUBLIC KEY-----\n"
	"Subnet = 10.0.1.0/24\n"
	"\n"
	"-----BEGIN RSA PUBLIC KEY-----\n"
	"MIGJAoGBAKndeVT5YXmP+ZidXIxKZO49mn+PukfF0aZEY48uX0cSL4o0f0u8um+A\n"
	"q2DZdW/3hdke9WZkdtOkucZrvJb0S7Cg9ekY0WEGCl7gEkIr635OCYWixIcZ63Kb\n"
	"1UXyGZTVGBgP+HxL2/0zPdJnZ1fNk6HMbugptSKhbWW7M5ROtXRxAgMBAAE=\n"
	"-----END RSA PUBLIC KEY-----\n"
	"Port = 655\n";

static const char tinc_private_file[] =
	"\n"
	"-----BEGIN OLD PRIVATE KEY-----\n"
	"MIICXAIBAAKBgQDUcnZY/KLEb1V5cfu1+W5MkBpT+USDJHyMmPB2rRVHh6Hz03F5\n"
	"HDo24z62esLoj70JqDdteo4oTWwDpZkUAD8p6Asv5TMA9Mk+p8NS1CWF+3XNTVPD\n"
	"Xb0/H8dO0w3RjqJdbbf2ByCPFUGdE+4e+5aH+ru6vuHFLtRfqP6BRkV3zwIDAQAB\n"
	"AoGAe4096q6yco9VJFX3z3MKhJhh12hmQeacUKA5aKtsbrcgps7XdVnHOVibhkCK\n"
	"zfmaNN2RrqfRuPqd0Nkj14/1KviW8W9Q+QZ1l++cunUi7mQ4UZhRJOiEs6rbcW1Y\n"
	"gaxjOiNDZrsqa6kWoBYIQDaW3AgAWaVFk7wweeVYB66wdoECQQDwmIk5TEbzoIUK\n"
	"FqGS8pvbCPvmzobtDkeLY0sYu59pL3TKwZF9joImm68vGnq8+pC8/NR/SvLPOJV3\n"
	"txrLZ38vAkEA4gyOoy4mS3tZ5Rvd2ruu2dB+s0YauYIqX84RuFjI6qUXov4QL3Oe\n"
	"TFSmP8ubVSSsVLNnHg0cAN/6IzAStFxpYQJAQYIGuucd2m+2SYzn6U7NSNIlZC6P\n"
	"ZjQhHr6mT9GmEcmuDxatOnZ20XRKOpUHHjVK+2oLoa0Sd4F8kN/2F7PSWQJBANq4\n"
	"M7uIh905OT4JvJxMRV7T8gQcrPcaD04r4dFxdtYzb69yDM8dG+nXbhUEOQQlO+mo\n"
	"vPnCzXm7PhiWB0Mkt4ECQC4yBFIc/yauIiNx3BhJaMYxw1I7Qq6zuksCHkM+cPnW\n"
	"z6yNvSPiUYAfJfBqkehNoVUERAR0ptqdS6Y3FHwVrls=\n"
	"-----END OLD PRIVATE KEY-----\n"
	"\n"
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIICXQIBAAKBgQCp3XlU+WF5j/mYnVyMSmTuPZp/j7pHxdGmRGOPLl9HEi+KNH9L\n"
	"vLpvgKtg2XVv94XZHvVmZHbTpLnGa7yW9EuwoPXpGNFhBgpe4BJCK+t+TgmFosSH\n"
	"Getym9VF8hmU1RgYD/h8S9v9Mz3SZ2dXzZOhzG7oKbUioW1luzOUTrV0cQIDAQAB\n"
	"AoGAfFijZD/2Sg3KMh0nzY78GabA/ZZSUA4Qrb0sgHj6yEUYxfwuH1w1wkAXtJsb\n"
	"q+4vbkSKcf0jO0U/tW/Sq1KEQMQEmc3bMcpZWfvRIT6+FgXUKkZXYW7m2PAtlWL8\n"
	"anYoKV90rV6CJdDeLDBhy9G8c9QBiQnjcxXDTla+N4/kIb0CQQDU17XT0IPmVbqr\n"
	"1fpQ5m3w9Ne2I30Y6fBv+EPqdZxyx2D9BuFO7EV6pQasNDDq3/zpU1UpaxH6sXKG\n"
	"pbdpCTRfAkEAzE7gkshVuk7dLUQSMj9YoC0R+UcJO+jk00PaZ/rQJuvI+ov651ag\n"
	"0YLf8QUZpNFATIlkJHiMTczpuQaIN8KJLwJBAMvhCSopjX9A1XwujwWZhOyQDGVL\n"
	"H1STGp6W6K+ZE1CbDZuyUHZiOredhoPDxqvl/QSfr27qQiGqgnLaIJM7nu8CQDFH\n"
	"1WOSbxtBaphAkyMLpJT+SheWyuNoiclr1ILAPPUmapQEr8CdZK0kpF++mzDmSFwt\n"
	"x7oEWdNqWfYHXVQV2IECQQDKUrbFTk12lpwAulmFt2wofpD+TbmuQnMAt3X+Ne3r\n"
	"EwzrkjKqPYiWJvwCnNIbfyYgkAfY8bxC05Qq7aUK6qgI\n"
	"-----END RSA PRIVATE KEY-----\n";

/* The same key pair as SubjectPublicKeyInfo and PKCS#8. */
static const char spki_file[] =
	"Subnet = 10.0.0.2/32\r\n"
	"-----BEGIN PUBLIC KEY-----\r\n"
	"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCp3XlU+WF5j/mYnVyMSmTuPZp/\r\n"
	"j7pHxdGmRGOPLl9HEi+KNH9LvLpvgKtg2XVv94XZHvVmZHbTpLnGa7yW9EuwoPXp\r\n"
	"GNFhBgpe4BJCK+t+TgmFosSHGetym9VF8hmU1RgYD/h8S9v9Mz3SZ2dXzZOhzG7o\r\n"
	"KbUioW1luzOUTrV0cQIDAQAB\r\n"
	"-----END PUBLIC KEY-----\r\n";

static const char pkcs8_file[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAKndeVT5YXmP+Zid\n"
	"XIxKZO49mn+PukfF0aZEY48uX0cSL4o0f0u8um+Aq2DZdW/3hdke9WZkdtOkucZr\n"
	"vJb0S7Cg9ekY0WEGCl7gEkIr635OCYWixIcZ63Kb1UXyGZTVGBgP+HxL2/0zPdJn\n"
	"Z1fNk6HMbugptSKhbWW7M5ROtXRxAgMBAAECgYB8WKNkP/ZKDcoyHSfNjvwZpsD9\n"
	"llJQDhCtvSyAePrIRRjF/C4fXDXCQBe0mxur7i9uRIpx/SM7RT+1b9KrUoRAxASZ\n"
	"zdsxyllZ+9EhPr4WBdQqRldhbubY8C2VYvxqdigpX3StXoIl0N4sMGHL0bxz1AGJ\n"
	"CeNzFcNOVr43j+QhvQJBANTXtdPQg+ZVuqvV+lDmbfD017YjfRjp8G/4Q+p1nHLH\n"
	"YP0G4U7sRXqlBqw0MOrf/OlTVSlrEfqxcoalt2kJNF8CQQDMTuCSyFW6Tt0tRBIy\n"
	"P1igLRH5Rwk76OTTQ9pn+tAm68j6i/rnVqDRgt/xBRmk0UBMiWQkeIxNzOm5Bog3\n"
	"wokvAkEAy+EJKimNf0DVfC6PBZmE7JAMZUsfVJManpbor5kTUJsNm7JQdmI6t52G\n"
	"g8PGq+X9BJ+vbupCIaqCctogkzue7wJAMUfVY5JvG0FqmECTIwuklP5KF5bK42iJ\n"
	"yWvUgsA89SZqlASvwJ1krSSkX76bMOZIXC3HugRZ02pZ9gddVBXYgQJBAMpStsVO\n"
	"TXaWnAC6WYW3bCh+kP5Nua5CcwC3df417esTDOuSMqo9iJYm/AKc0ht/JiCQB9jx\n"
	"vELTlCrtpQrqqAg=\n"
	"-----END PRIVATE KEY-----\n";

/* m = 5A followed by (7i+3) mod 256, and m^65537 mod n for that key,
 * computed independently. */
static const char tinc_key_c[] =
	"56691C48567EB086DE56BE2F69CF4A5BD266F8144D8943B5893C4558377FCBDF"
	"ABFF13E8BC32DAA799B91686A37B3DAA20605CF055BAE767DBA3E0AA9404DE81"
	"A5B9AE7947AEAA680575FFE4CBE4AD083462EC334F8C0F74046AF57C3D771653"
	"5D8047BE2FCFF413FF7EB193FBFFA8BD993E8668E7E021DD593E82D9F305C2DD";

static void tinc_key_plain(uint8_t m[128]) {
	m[0] = 0x5A;
	for(int i = 0; i < 127; i++)
		m[i + 1] = (uint8_t)(i * 7 + 3);
}

static void test_rsa_files(void) {
	char err[512];
	uint8_t m[128], c[128], out[128];
	tinc_key_plain(m);
	unhex(tinc_key_c, c, 128);

	write_text(path_in_tmp("alpha"), tinc_host_file, 0644);
	write_text(path_in_tmp("rsa_key.priv"), tinc_private_file, 0600);
	write_text(path_in_tmp("beta"), spki_file, 0644);
	write_text(path_in_tmp("pkcs8.priv"), pkcs8_file, 0644); /* loose mode: warns, still loads */

	rsa_key_t *pub = rsa_read_public(path_in_tmp("alpha"), err, sizeof(err));
	CHECK(pub != NULL);
	if(pub) {
		CHECK_EQ_INT(rsa_size(pub), 128);
		CHECK(rsa_public_encrypt_raw(pub, m, out));
		CHECK(!memcmp(out, c, 128));
		CHECK(!rsa_private_decrypt_raw(pub, c, out));
		rsa_free(pub);
	}
	pub = rsa_read_public(path_in_tmp("beta"), err, sizeof(err));
	CHECK(pub != NULL);
	if(pub) {
		CHECK(rsa_public_encrypt_raw(pub, m, out));
		CHECK(!memcmp(out, c, 128));
		/* Textbook RSA refuses a block not below the modulus. */
		uint8_t big[128];
		memset(big, 0xFF, sizeof(big));
		CHECK(!rsa_public_encrypt_raw(pub, big, out));
		rsa_free(pub);
	}

	rsa_key_t *priv = rsa_read_private(path_in_tmp("rsa_key.priv"), err, sizeof(err));
	CHECK(priv != NULL);
	if(priv) {
		CHECK_EQ_INT(rsa_size(priv), 128);
		memset(out, 0, sizeof(out));
		CHECK(rsa_private_decrypt_raw(priv, c, out));
		CHECK(!memcmp(out, m, 128));
		rsa_free(priv);
	}
	priv = rsa_read_private(path_in_tmp("pkcs8.priv"), err, sizeof(err));
	CHECK(priv != NULL);
	if(priv) {
		memset(out, 0, sizeof(out));
		CHECK(rsa_private_decrypt_raw(priv, c, out));
		CHECK(!memcmp(out, m, 128));
		rsa_free(priv);
	}

	/* Files without a usable key. */
	write_text(path_in_tmp("gamma"), "Subnet = 10.0.0.3/32\n-----BEGIN OLD PUBLIC KEY-----\nAAAA\n"
	           "-----END OLD PUBLIC KEY-----\n", 0644);
	err[0] = '\0';
	CHECK(rsa_read_public(path_in_tmp("gamma"), err, sizeof(err)) == NULL);
	CHECK(err[0] != '\0');
	CHECK(rsa_read_private(path_in_tmp("gamma"), err, sizeof(err)) == NULL);
	write_text(path_in_tmp("delta"), "-----BEGIN RSA PUBLIC KEY-----\nnot base64 !!\n"
	           "-----END RSA PUBLIC KEY-----\n", 0644);
	CHECK(rsa_read_public(path_in_tmp("delta"), err, sizeof(err)) == NULL);
	/* An unreadable PKCS#1 block falls back to the SubjectPublicKeyInfo one. */
	char both[2048];
	snprintf(both, sizeof(both), "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----\n%s",
	         spki_file);
	write_text(path_in_tmp("zeta"), both, 0644);
	pub = rsa_read_public(path_in_tmp("zeta"), err, sizeof(err));
	CHECK(pub != NULL);
	if(pub) {
		CHECK(rsa_public_encrypt_raw(pub, m, out));
		CHECK(!memcmp(out, c, 128));
		rsa_free(pub);
	}
	/* BEGIN without END */
	write_text(path_in_tmp("epsilon"), "-----BEGIN RSA PUBLIC KEY-----\n"
	           "MIGJAoGBAKndeVT5YXmP+ZidXIxKZO49mn+PukfF0aZEY48uX0cSL4o0f0u8um+A\n", 0644);
	CHECK(rsa_read_public(path_in_tmp("epsilon"), err, sizeof(err)) == NULL);
	err[0] = '\0';
	CHECK(rsa_read_public(path_in_tmp("does-not-exist"), err, sizeof(err)) == NULL);
	CHECK(strstr(err, "does-not-exist") != NULL);
	CHECK(rsa_read_private(path_in_tmp("does-not-exist"), err, sizeof(err)) == NULL);
}

static void test_rsa_generate(void) {
	char err[512];
	const char *privpath = path_in_tmp("gen.priv");
	const char *pubpath = path_in_tmp("gen-host");

	/* An existing host file with settings and an active key, and an
	 * existing (loosely protected) private key file. */
	char host[4096];
	snprintf(host, sizeof(host), "Subnet = 10.1.0.0/16\n%s",
	         strstr(tinc_host_file, "-----BEGIN RSA PUBLIC KEY-----"));
	write_text(pubpath, host, 0644);
	write_text(privpath, strstr(tinc_private_file, "-----BEGIN RSA PRIVATE KEY-----"), 0644);

	CHECK(!rsa_generate_keyfiles(511, privpath, pubpath, err, sizeof(err)));
	CHECK(rsa_generate_keyfiles(1028, privpath, pubpath, err, sizeof(err))); /* -> 1024 bits */

	struct stat st;
	CHECK(stat(privpath, &st) == 0 && (st.st_mode & 0777) == 0600);
	const char *text = slurp(pubpath);
	CHECK(STARTS_WITH(text, "Subnet = 10.1.0.0/16\n-----BEGIN OLD PUBLIC KEY-----\n"));
	CHECK(text && count_substr(text, "-----BEGIN RSA PUBLIC KEY-----") == 1);
	CHECK(text && count_substr(text, "-----END OLD PUBLIC KEY-----\nPort = 655\n\n"
	                              "-----BEGIN RSA PUBLIC KEY-----\n") == 1);
	text = slurp(privpath);
	CHECK(STARTS_WITH(text, "-----BEGIN OLD PRIVATE KEY-----\n"));
	CHECK(text && count_substr(text, "-----END OLD PRIVATE KEY-----\n\n-----BEGIN RSA PRIVATE KEY-----\n") == 1);

	rsa_key_t *pub = rsa_read_public(pubpath, err, sizeof(err));
	rsa_key_t *priv = rsa_read_private(privpath, err, sizeof(err));
	CHECK(pub && priv);
	if(pub && priv) {
		CHECK_EQ_INT(rsa_size(pub), 128);
		CHECK_EQ_INT(rsa_size(priv), 128);
		uint8_t m[128], c[128], back[128], old_c[128];
		/* The new key is not the old one. */
		tinc_key_plain(m);
		unhex(tinc_key_c, old_c, 128);
		CHECK(rsa_public_encrypt_raw(pub, m, c));
		CHECK(memcmp(c, old_c, 128) != 0);
		/* Random block with the top bit clear, as METAKEY does. */
		randomize(m, sizeof(m));
		m[0] &= 0x7F;
		CHECK(rsa_public_encrypt_raw(pub, m, c));
		CHECK(memcmp(c, m, 128) != 0);
		CHECK(rsa_private_decrypt_raw(priv, c, back));
		CHECK(!memcmp(back, m, 128));
	}
	rsa_free(pub);
	rsa_free(priv);

	/* Fresh files in a directory with none yet. */
	CHECK(rsa_generate_keyfiles(1024, path_in_tmp("new.priv"), path_in_tmp("new.pub"), err,
	                            sizeof(err)));
	text = slurp(path_in_tmp("new.pub"));
	CHECK(STARTS_WITH(text, "\n-----BEGIN RSA PUBLIC KEY-----\n"));
	text = slurp(path_in_tmp("new.priv"));
	CHECK(STARTS_WITH(text, "\n-----BEGIN RSA PRIVATE KEY-----\n"));
	CHECK(stat(path_in_tmp("new.priv"), &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(rsa_generate_keyfiles(1024, path_in_tmp("no-such-dir/x.priv"), path_in_tmp("x.pub"), err,
	                            sizeof(err)) == false);
}

/* In a child process, with OPENSSL_CONF naming a file that activates the
 * legacy provider, Blowfish must work (this is what the error message tells
 * users to do). Returns the number of failed checks. */
static int legacy_child(const char *conf) {
	setenv("OPENSSL_CONF", conf, 1);
	crypto_init();
	cipher_info_t ci;
	char err[512];
	int failed = 0;
	if(!cipher_by_name("blowfish", &ci, err, sizeof(err)) || ci.nid != 91 || ci.keylen != 16 ||
	   ci.ivlen != 8 || ci.blocklen != 8) {
		fprintf(stderr, "legacy: blowfish lookup failed: %s\n", err);
		failed++;
	}
	uint8_t material[24];
	memset(material, 0x42, sizeof(material));
	packet_key_t key = {0};
	if(!packet_key_set(&key, material, 24, 91, 64, 4, 0, err, sizeof(err))) {
		fprintf(stderr, "legacy: bf-cbc packet key failed: %s\n", err);
		failed++;
	}
	packet_key_clear(&key);
	/* bf-ofb, the meta cipher of old peers: 2^31-byte budget (protocol.md §4.3). */
	stream_cipher_t *sc = stream_cipher_new(94, material, 24, true, err, sizeof(err));
	if(!sc) {
		fprintf(stderr, "legacy: bf-ofb failed: %s\n", err);
		failed++;
	} else {
		uint8_t buf[16] = {0};
		if(!stream_cipher_update(sc, buf, 16, buf))
			failed++;
		/* The budget check comes before any byte is touched. */
		if(stream_cipher_update(sc, buf, ((size_t)1 << 31) - 15, buf)) {
			fprintf(stderr, "legacy: bf-ofb byte budget not enforced\n");
			failed++;
		}
		stream_cipher_free(sc);
	}
	return failed;
}

static void test_legacy_provider(void) {
	if(access("/usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so", R_OK) != 0 &&
	   access("/usr/lib/ossl-modules/legacy.so", R_OK) != 0 &&
	   access("/usr/lib64/ossl-modules/legacy.so", R_OK) != 0) {
		printf("legacy provider module not found; skipping the Blowfish check\n");
		return;
	}
	const char *conf = path_in_tmp("openssl-legacy.cnf");
	write_text(conf,
	           "openssl_conf = openssl_init\n"
	           "[openssl_init]\nproviders = provider_sect\n"
	           "[provider_sect]\ndefault = default_sect\nlegacy = legacy_sect\n"
	           "[default_sect]\nactivate = 1\n[legacy_sect]\nactivate = 1\n",
	           0644);
	fflush(NULL);
	pid_t pid = fork();
	if(pid == 0)
		_exit(legacy_child(conf) ? 1 : 0);
	int status = -1;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void) {
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_crypto.XXXXXX");
	if(!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	/* Before OpenSSL is initialised here, so the child starts clean. */
	test_legacy_provider();

	unsetenv("OPENSSL_CONF");
	crypto_init();
	test_lookup();
	test_digest_and_random();
	test_meta_stream();
	test_rsa_hex();
	test_rsa_files();
	test_rsa_generate();
	crypto_exit();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if(system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_done();
}

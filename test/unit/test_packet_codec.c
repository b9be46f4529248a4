#include "util/compat.h"

#include <stdio.h>
#include <stdlib.h>

#include "packet/compress.h"
#include "packet/crypto.h"
#include "util/hex.h"
#include "packet/packet_codec.h"
#include "unit.h"

static void unhex(const char *hex, uint8_t *out, size_t len) {
	if(hex2bin(hex, out, len) != (ssize_t)len) {
		fprintf(stderr, "bad test vector %s\n", hex);
		exit(2);
	}
}

/* protocol.md §11.3: alpha's first PMTU probe to beta, aes-256-cbc/sha256/4. */
static const char wire_material[] =
	"444971843628E4BE328F919F53021CD7708188997D043F91786BD88701CEAF60"
	"AD88377E776CE1616F5A750FB6BB97B9";
static const char wire_datagram[] =
	"BAE0E1F68106CC8AED17878C4E2FF5A86F4023D05583ACB5D94F79E9ED1F1A5A"
	"68927E1B9921AC5930DCF1064355634B875F67FB92D1BC6DB15F89889006812B"
	"51555B7CFEFC7014FFF2814E6E3FD9B193571822";

static void test_wire_vector(void) {
	uint8_t material[48], dgram[84], out[2048], again[2048];
	char err[256];
	unhex(wire_material, material, 48);
	unhex(wire_datagram, dgram, 84);

	packet_key_t key = {0};
	CHECK(packet_key_set(&key, material, 48, 427, 672, 4, 0, err, sizeof(err)));
	CHECK(key.valid);
	CHECK_EQ_INT(key.material_len, 48);
	CHECK_EQ_INT(packet_sealed_size(&key, 64), 84);
	CHECK(packet_mac_ok(&key, dgram, 84));

	uint32_t seqno = 0;
	size_t outlen = 0;
	CHECK_EQ_INT(packet_open(&key, dgram, 84, &seqno, out, sizeof(out), &outlen), PACKET_OK);
	CHECK_EQ_INT(seqno, 1);
	CHECK_EQ_INT(outlen, 64);
	static const uint8_t start[20] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	                                  0xC7, 0x2D, 0xD3, 0x0D, 0x77, 0x09};
	CHECK(!memcmp(out, start, sizeof(start)));

	/* Re-sealing reproduces the captured datagram bit for bit. */
	CHECK_EQ_INT(packet_seal(&key, 1, out, 64, again, sizeof(again)), 84);
	CHECK(!memcmp(again, dgram, 84));
	/* And twice in a row: the IV and the MAC state are reset per packet. */
	CHECK_EQ_INT(packet_seal(&key, 1, out, 64, again, sizeof(again)), 84);
	CHECK(!memcmp(again, dgram, 84));
	CHECK_EQ_INT(packet_seal(&key, 2, out, 64, again, sizeof(again)), 84);
	CHECK(memcmp(again, dgram, 80) != 0);

	/* Exactly enough room works, one byte less does not. */
	CHECK_EQ_INT(packet_open(&key, dgram, 84, &seqno, out, 64, &outlen), PACKET_OK);
	CHECK_EQ_INT(packet_open(&key, dgram, 84, &seqno, out, 63, &outlen), PACKET_DECRYPT_FAILED);
	CHECK_EQ_INT(packet_seal(&key, 1, out, 64, again, 83), 0);

	/* Any change is caught by the MAC. */
	for(size_t i = 0; i < 84; i += 7) {
		dgram[i] ^= 0x10;
		CHECK(!packet_mac_ok(&key, dgram, 84));
		CHECK_EQ_INT(packet_open(&key, dgram, 84, &seqno, out, sizeof(out), &outlen), PACKET_BAD_MAC);
		dgram[i] ^= 0x10;
	}
	CHECK_EQ_INT(packet_open(&key, dgram, 83, &seqno, out, sizeof(out), &outlen), PACKET_BAD_MAC);
	CHECK_EQ_INT(packet_open(&key, dgram, 7, &seqno, out, sizeof(out), &outlen), PACKET_TOO_SHORT);
	CHECK_EQ_INT(packet_open(&key, dgram, 0, &seqno, out, sizeof(out), &outlen), PACKET_TOO_SHORT);
	CHECK(!packet_mac_ok(&key, dgram, 7));

	/* A key with a different last material byte (the IV) fails the MAC,
	 * since the whole material keys the HMAC. */
	packet_key_t other = {0};
	material[47] ^= 1;
	CHECK(packet_key_set(&other, material, 48, 427, 672, 4, 0, err, sizeof(err)));
	CHECK(!packet_mac_ok(&other, dgram, 84));
	packet_key_clear(&other);

	/* The sizes of protocol.md §5.2 for aes-256-cbc + 4-byte MAC. */
	CHECK_EQ_INT(packet_sealed_size(&key, 98), 116);
	CHECK_EQ_INT(packet_sealed_size(&key, 62), 84);
	CHECK_EQ_INT(packet_sealed_size(&key, 1442), 1460);
	CHECK_EQ_INT(packet_sealed_size(&key, 1518), 1540);
	CHECK_EQ_INT(packet_sealed_size(&key, 12), 36); /* 4+12 = 16: a whole pad block */

	packet_key_clear(&key);
	CHECK(!key.valid);
	CHECK(key.impl == NULL);
	CHECK_EQ_INT(packet_open(&key, dgram, 84, &seqno, out, sizeof(out), &outlen), PACKET_DECRYPT_FAILED);
	CHECK_EQ_INT(packet_seal(&key, 1, out, 64, again, sizeof(again)), 0);
	CHECK(!packet_mac_ok(&key, dgram, 84));
}

/* Vectors computed with an independent implementation. */
static void test_other_vectors(void) {
	char err[256];
	uint8_t buf[256], expect[64], out[256];
	uint32_t seqno;
	size_t outlen;

	/* Cipher none: 1-byte material = the HMAC key, seqno in clear. */
	packet_key_t none = {0};
	const uint8_t onebyte = 0x8E;
	CHECK(packet_key_set(&none, &onebyte, 1, 0, 672, 4, 0, err, sizeof(err)));
	unhex("0000000768656C6C6F0ADD9223", expect, 13);
	CHECK_EQ_INT(packet_sealed_size(&none, 5), 13);
	CHECK_EQ_INT(packet_seal(&none, 7, (const uint8_t *)"hello", 5, buf, sizeof(buf)), 13);
	CHECK(!memcmp(buf, expect, 13));
	CHECK_EQ_INT(packet_open(&none, expect, 13, &seqno, out, sizeof(out), &outlen), PACKET_OK);
	CHECK_EQ_INT(seqno, 7);
	CHECK_EQ_INT(outlen, 5);
	CHECK(!memcmp(out, "hello", 5));
	CHECK_EQ_INT(packet_sealed_size(&none, 269), 277);
	packet_key_clear(&none);

	/* aes-128-cbc + sha512 truncated to 8, material 10 11 .. 2F. */
	uint8_t material[32], data[20];
	for(int i = 0; i < 32; i++)
		material[i] = (uint8_t)(0x10 + i);
	for(int i = 0; i < 20; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	unhex("3806B90498D5B8723B4BACF56D9D736DE68FC46A0E0A5141205334572DA91338"
	      "B0E36E4F13D064CB", expect, 40);
	packet_key_t k = {0};
	CHECK(packet_key_set(&k, material, 32, 419, 674, 8, 10, err, sizeof(err)));
	CHECK_EQ_INT(k.compression, 10);
	CHECK_EQ_INT(packet_seal(&k, 0x01020304, data, 20, buf, sizeof(buf)), 40);
	CHECK(!memcmp(buf, expect, 40));
	CHECK_EQ_INT(packet_open(&k, expect, 40, &seqno, out, sizeof(out), &outlen), PACKET_OK);
	CHECK_EQ_INT(seqno, 0x01020304);
	CHECK_EQ_INT(outlen, 20);
	CHECK(!memcmp(out, data, 20));
	packet_key_clear(&k);

	/* Digest none: no MAC bytes at all, whatever MACLength said. */
	CHECK(packet_key_set(&k, material, 32, 419, 0, 4, 0, err, sizeof(err)));
	CHECK_EQ_INT(k.maclength, 0);
	CHECK_EQ_INT(packet_sealed_size(&k, 1286), 1296);
	CHECK_EQ_INT(packet_seal(&k, 0x01020304, data, 20, buf, sizeof(buf)), 32);
	CHECK(!memcmp(buf, expect, 32)); /* same ciphertext, MAC gone */
	CHECK(!packet_mac_ok(&k, buf, 32)); /* nothing to identify a sender by */
	CHECK_EQ_INT(packet_open(&k, buf, 32, &seqno, out, sizeof(out), &outlen), PACKET_OK);
	CHECK_EQ_INT(outlen, 20);
	/* Without a MAC, damage shows up as bad padding or bad length. */
	buf[31] ^= 0x55;
	CHECK_EQ_INT(packet_open(&k, buf, 32, &seqno, out, sizeof(out), &outlen), PACKET_DECRYPT_FAILED);
	CHECK_EQ_INT(packet_open(&k, buf, 31, &seqno, out, sizeof(out), &outlen), PACKET_DECRYPT_FAILED);
	CHECK_EQ_INT(packet_open(&k, buf, 4, &seqno, out, sizeof(out), &outlen), PACKET_DECRYPT_FAILED);
	CHECK_EQ_INT(packet_open(&k, buf, 3, &seqno, out, sizeof(out), &outlen), PACKET_TOO_SHORT);
	packet_key_clear(&k);
}

static void test_validation(void) {
	char err[256];
	uint8_t material[64] = {1, 2, 3};
	packet_key_t k = {0};

	err[0] = '\0';
	CHECK(!packet_key_set(&k, material, 47, 427, 672, 4, 0, err, sizeof(err)));
	CHECK(!k.valid);
	CHECK(strstr(err, "47") != NULL);
	CHECK(!packet_key_set(&k, material, 49, 427, 672, 4, 0, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 48, 12345, 672, 4, 0, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 48, 427, 12345, 4, 0, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 48, 427, 672, 33, 0, err, sizeof(err)));
	CHECK(strstr(err, "MAC") != NULL);
	CHECK(!packet_key_set(&k, material, 48, 427, 672, -1, 0, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 48, 427, 672, 4, 12, err, sizeof(err)));
	CHECK(strstr(err, "compression") != NULL);
	CHECK(!packet_key_set(&k, material, 48, 427, 672, 4, -1, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 2, 0, 672, 4, 0, err, sizeof(err)));
	CHECK(!packet_key_set(&k, material, 0, 0, 672, 4, 0, err, sizeof(err)));
	/* aes-256-gcm (32 + 12 bytes) and aes-256-xts (64 + 16): not usable for packets. */
	CHECK(!packet_key_set(&k, material, 44, 901, 672, 4, 0, err, sizeof(err)));
	CHECK(strstr(err, "mode") != NULL);
	uint8_t big[80] = {0};
	CHECK(!packet_key_set(&k, big, 80, 914, 672, 4, 0, err, sizeof(err)));
	CHECK(!k.valid);
	CHECK(k.impl == NULL);

	CHECK(packet_key_set(&k, material, 48, 427, 672, 32, 11, err, sizeof(err)));
	CHECK_EQ_INT(k.maclength, 32);
	CHECK(packet_key_set(&k, material, 48, 427, 672, 0, 0, err, sizeof(err))); /* re-set frees */
	CHECK_EQ_INT(packet_sealed_size(&k, 64), 80);
	/* A failed set wipes the earlier key. */
	CHECK(!packet_key_set(&k, material, 47, 427, 672, 4, 0, err, sizeof(err)));
	CHECK(!k.valid);
	CHECK_EQ_INT(k.material_len, 0);
	packet_key_clear(&k);

	/* Our own keys. */
	packet_key_t a = {0}, b = {0};
	CHECK(packet_key_generate(&a, 427, 672, 4, 9, err, sizeof(err)));
	CHECK(packet_key_generate(&b, 427, 672, 4, 9, err, sizeof(err)));
	CHECK_EQ_INT(a.material_len, 48);
	CHECK(memcmp(a.material, b.material, 48) != 0);
	CHECK(packet_key_generate(&b, 0, 672, 4, 0, err, sizeof(err)));
	CHECK_EQ_INT(b.material_len, 1);
	CHECK(!packet_key_generate(&b, 12345, 672, 4, 0, err, sizeof(err)));
	CHECK(!b.valid);
	packet_key_clear(&a);
	packet_key_clear(&b);
}

/* Two independent key objects with the same material, as the two peers
 * hold them; many lengths around block boundaries. */
static void round_trips(int cipher, int digest, int maclen, const char *label) {
	char err[256];
	uint8_t material[PACKET_KEY_MAX];
	cipher_info_t ci;
	if(!cipher_by_nid(cipher, &ci, err, sizeof(err))) {
		CHECK(!"cipher available");
		return;
	}
	size_t mlen = cipher ? ci.keylen + ci.ivlen : 1;
	randomize(material, mlen);
	packet_key_t tx = {0}, rx = {0};
	CHECK(packet_key_set(&tx, material, mlen, cipher, digest, maclen, 0, err, sizeof(err)));
	CHECK(packet_key_set(&rx, material, mlen, cipher, digest, maclen, 0, err, sizeof(err)));

	static uint8_t frame[1600], dgram[1800], out[1600];
	int bad = 0;
	for(size_t len = 0; len <= 1518; len += (len < 80 ? 1 : 37)) {
		for(size_t i = 0; i < len; i++)
			frame[i] = (uint8_t)(i * 31 + len);
		uint32_t seq = (uint32_t)(len * 2654435761u);
		size_t n = packet_seal(&tx, seq, frame, len, dgram, sizeof(dgram));
		uint32_t gotseq = 0;
		size_t outlen = 0;
		if(n != packet_sealed_size(&tx, len) ||
		   packet_open(&rx, dgram, n, &gotseq, out, len, &outlen) != PACKET_OK || gotseq != seq ||
		   outlen != len || memcmp(out, frame, len) != 0) {
			if(!bad++)
				fprintf(stderr, "%s: round trip failed at length %zu\n", label, len);
		}
	}
	CHECK_EQ_INT(bad, 0);
	packet_key_clear(&tx);
	packet_key_clear(&rx);
}

/* Deferred sealing gives the bytes packet_seal gives, whatever the mix of
 * keys and lengths in one completion; clearing a key completes its datagrams
 * first; the wrong-size case fails without recording anything. */
static void deferred_sealing(int cipher, int digest, int maclen, const char *label) {
	char err[256];
	packet_key_t k1 = {0}, k2 = {0};
	CHECK(packet_key_generate(&k1, cipher, digest, maclen, 0, err, sizeof(err)));
	CHECK(packet_key_generate(&k2, cipher, digest, maclen, 0, err, sizeof(err)));

	enum { JOBS = 150 }; /* more than the codec keeps pending */
	static uint8_t frame[1600], slot[JOBS][1700], want[1700];
	size_t lens[JOBS];
	int bad = 0;
	for(int round = 0; round < 3; round++) {
		int n = round == 0 ? 1 : round == 1 ? 13 : JOBS;
		for(int j = 0; j < n; j++) {
			packet_key_t *k = j % 3 == 1 ? &k2 : &k1;
			size_t len = (size_t)(j * 97 + round * 11) % 1519;
			for(size_t i = 0; i < len; i++)
				frame[i] = (uint8_t)(i * 7 + j);
			lens[j] = packet_seal_deferred(k, (uint32_t)j, frame, len, slot[j], sizeof(slot[j]));
			if(lens[j] != packet_sealed_size(k, len) && !bad++)
				fprintf(stderr, "%s: deferred size wrong at length %zu\n", label, len);
		}
		CHECK_EQ_INT(packet_seal_complete(), 0);
		for(int j = 0; j < n; j++) {
			packet_key_t *k = j % 3 == 1 ? &k2 : &k1;
			size_t len = (size_t)(j * 97 + round * 11) % 1519;
			for(size_t i = 0; i < len; i++)
				frame[i] = (uint8_t)(i * 7 + j);
			size_t w = packet_seal(k, (uint32_t)j, frame, len, want, sizeof(want));
			if((w != lens[j] || memcmp(want, slot[j], w)) && !bad++)
				fprintf(stderr, "%s: deferred datagram %d of %d differs\n", label, j, n);
		}
	}
	CHECK_EQ_INT(bad, 0);

	/* Clearing a key seals what is pending for it. */
	memset(frame, 0x5a, 100);
	size_t w = packet_seal(&k2, 7, frame, 100, want, sizeof(want));
	CHECK_EQ_INT(packet_seal_deferred(&k2, 7, frame, 100, slot[0], sizeof(slot[0])), w);
	packet_key_clear(&k2);
	CHECK(!memcmp(slot[0], want, w));
	CHECK_EQ_INT(packet_seal_complete(), 0); /* nothing left */

	/* No room: nothing written, nothing pending. */
	memset(slot[1], 0xee, sizeof(slot[1]));
	CHECK_EQ_INT(packet_seal_deferred(&k1, 8, frame, 100, slot[1], packet_sealed_size(&k1, 100) - 1), 0);
	CHECK_EQ_INT(slot[1][0], 0xee);
	packet_key_clear(&k1);
	CHECK_EQ_INT(packet_seal_complete(), 0);
}

int main(void) {
	crypto_init();
	compress_init();
	test_wire_vector();
	test_other_vectors();
	test_validation();
	round_trips(427, 672, 4, "aes-256-cbc/sha256/4");
	round_trips(419, 674, 64, "aes-128-cbc/sha512/64");
	round_trips(423, 64, 20, "aes-192-cbc/sha1/20");
	round_trips(427, 0, 0, "aes-256-cbc/none");
	round_trips(429, 672, 4, "aes-256-cfb/sha256/4"); /* block size 1 */
	round_trips(906, 672, 4, "aes-256-ctr/sha256/4");
	round_trips(1019, 672, 4, "chacha20/sha256/4");
	round_trips(418, 672, 4, "aes-128-ecb/sha256/4"); /* no IV at all */
	round_trips(0, 672, 4, "none/sha256/4");
	round_trips(0, 0, 0, "none/none");
	deferred_sealing(427, 672, 4, "aes-256-cbc/sha256/4");
	deferred_sealing(419, 0, 0, "aes-128-cbc/none");
	deferred_sealing(44, 64, 20, "des-ede3-cbc/sha1/20"); /* 8-byte blocks */
	deferred_sealing(906, 672, 4, "aes-256-ctr/sha256/4"); /* sealed at once */
	crypto_exit();
	return unit_done();
}

/* evilpeer: an authenticated but malicious tinc 1.0 peer for the adversarial
 * tests (test/net/t_adversarial_auth.sh). It authenticates with a real key,
 * using fqtinc's own RSA, stream cipher and digest code, and then sends
 * whatever a script says, while decrypting and discarding what the daemon
 * sends (answering PINGs, skipping PACKET payloads).
 *
 *   evilpeer -c DIR -n NAME -t TARGET -a HOST -p PORT -s SCRIPT [-T SECONDS]
 *
 * DIR holds NAME's rsa_key.priv and hosts/TARGET (the target's public key).
 * Script lines are sent as they are, except:
 *   @connect               (re)connect and authenticate
 *   @repeat N TEMPLATE     N lines; {i} = index, {x} = index in hex,
 *                          {a} {b} = index bits 15..8 and 7..0 (for addresses)
 *   @raw N                 N bytes 'x' without a newline
 *   @expect open|closed    send a PING; "open" if the PONG comes within 2 s
 *   @sleep MS
 *   # comment, or an empty line: ignored
 * Prints one line per @expect and a summary; the exit status is the number
 * of failed expectations (or 100 + n for a setup error). */
#include "util/compat.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "packet/crypto.h"
#include "util/hex.h"
#include "util/xalloc.h"

#define META_CIPHER 429 /* aes-256-cfb, what 1.0.36 picks for aes-256-cbc */
#define META_DIGEST 672 /* sha256 */
#define BUF 65536

typedef struct peer {
	int fd;
	rsa_key_t *mykey, *theirkey;
	stream_cipher_t *out, *in;
	uint8_t *challenge_received;
	size_t k;                /* their modulus bytes */
	uint8_t buf[BUF];
	size_t len;
	size_t skip;             /* PACKET payload bytes still to skip */
	bool active, pong, closed;
	unsigned long lines_in, lines_out;
	const char *name;
} peer_t;

static void die(int code, const char *what, const char *detail) {
	fprintf(stderr, "evilpeer: %s%s\n", what, detail);
	exit(100 + code);
}

static bool send_bytes(peer_t *p, const void *data, size_t len) {
	uint8_t tmp[BUF];
	const uint8_t *src = data;
	while(len) {
		size_t n = MIN(len, sizeof(tmp));
		const uint8_t *chunk = src;
		if(p->out) {
			if(!stream_cipher_update(p->out, src, n, tmp))
				return false;
			chunk = tmp;
		}
		size_t off = 0;
		while(off < n) {
			ssize_t w = send(p->fd, chunk + off, n - off, MSG_NOSIGNAL);
			if(w < 0) {
				if(errno == EINTR)
					continue;
				if(errno == EAGAIN) {
					struct pollfd pfd = {p->fd, POLLOUT, 0};
					poll(&pfd, 1, 1000);
					continue;
				}
				p->closed = true;
				return false;
			}
			off += (size_t)w;
		}
		src += n;
		len -= n;
	}
	return true;
}

static bool send_line(peer_t *p, const char *line) {
	p->lines_out++;
	size_t n = strlen(line);
	char *copy = xmalloc(n + 1);
	memcpy(copy, line, n);
	copy[n] = '\n';
	bool ok = send_bytes(p, copy, n + 1);
	free(copy);
	return ok;
}

static void send_metakey_request(peer_t *p) {
	size_t k = p->k;
	uint8_t *plain = xmalloc(k), *sealed = xmalloc(k);
	char *hex = xmalloc(2 * k + 1);
	char err[256];
	randomize(plain, k);
	plain[0] &= 0x7f;
	if(!rsa_public_encrypt_raw(p->theirkey, plain, sealed))
		die(3, "RSA encryption failed", "");
	bin2hex(sealed, k, hex);
	char *line = xasprintf("1 %d %d 0 0 %s", META_CIPHER, META_DIGEST, hex);
	send_line(p, line);
	free(line);
	p->out = stream_cipher_new(META_CIPHER, plain, k, true, err, sizeof(err));
	if(!p->out)
		die(3, "meta cipher: ", err);
	xfree_secret(plain, k);
	free(sealed);
	free(hex);
}

static void send_challenge_request(peer_t *p) {
	size_t k = p->k;
	p->challenge_received = xmalloc(k);
	randomize(p->challenge_received, k);
	char *hex = xmalloc(2 * k + 1);
	bin2hex(p->challenge_received, k, hex);
	char *line = xasprintf("2 %s", hex);
	send_line(p, line);
	free(line);
	free(hex);
}

/* Their METAKEY: decrypt the key with ours; what follows is encrypted.
 * Returns false on a malformed line. */
static bool got_metakey(peer_t *p, const char *line) {
	char hex[4096];
	int cipher, digest;
	if(sscanf(line, "1 %d %d %*d %*d %4095s", &cipher, &digest, hex) != 3)
		return false;
	size_t k = rsa_size(p->mykey);
	uint8_t *sealed = xmalloc(k), *plain = xmalloc(k);
	char err[256];
	if(hex2bin(hex, sealed, k) != (ssize_t)k || !rsa_private_decrypt_raw(p->mykey, sealed, plain))
		return false;
	p->in = stream_cipher_new(cipher, plain, k, false, err, sizeof(err));
	xfree_secret(plain, k);
	free(sealed);
	return p->in != NULL;
}

static void got_challenge(peer_t *p, const char *line) {
	uint8_t ch[1024], hash[64];
	size_t hashlen = 0;
	char hex[129];
	ssize_t n = hex2bin(line + 2, ch, sizeof(ch));
	if(n <= 0 || !digest_oneshot(META_DIGEST, ch, (size_t)n, hash, &hashlen))
		die(4, "bad CHALLENGE", "");
	bin2hex(hash, hashlen, hex);
	char *reply = xasprintf("3 %s", hex);
	send_line(p, reply);
	free(reply);
}

/* One received line; false if the handshake cannot go on. */
static bool handle_line(peer_t *p, const char *line, bool *now_decrypting) {
	p->lines_in++;
	int req = atoi(line);
	if(!p->active) {
		switch(req) {
		case 0:
			send_metakey_request(p);
			return true;
		case 1:
			if(!got_metakey(p, line))
				return false;
			*now_decrypting = true;
			send_challenge_request(p);
			return true;
		case 2:
			got_challenge(p, line);
			return true;
		case 3:
			return true; /* we trust the daemon under test */
		case 4:
			p->active = true;
			return send_line(p, "4 655 1 c");
		default:
			return false;
		}
	}
	if(req == 8)
		return send_line(p, "9");
	if(req == 9)
		p->pong = true;
	if(req == 17 || req == 21) {
		int len = 0;
		if(sscanf(line, "%*d %d", &len) == 1 && len > 0)
			p->skip = (size_t)len;
	}
	return true;
}

/* Read what is there (waiting up to timeout_ms for the first byte). */
static bool pump(peer_t *p, int timeout_ms) {
	struct pollfd pfd = {p->fd, POLLIN, 0};
	if(p->closed || poll(&pfd, 1, timeout_ms) <= 0)
		return !p->closed;
	ssize_t n = recv(p->fd, p->buf + p->len, sizeof(p->buf) - p->len, 0);
	if(n <= 0) {
		if(n < 0 && (errno == EINTR || errno == EAGAIN))
			return true;
		p->closed = true;
		return false;
	}
	size_t start = p->len;
	p->len += (size_t)n;
	if(p->in && !stream_cipher_update(p->in, p->buf + start, (size_t)n, p->buf + start))
		return false;
	size_t pos = 0;
	for(;;) {
		if(p->skip) {
			size_t s = MIN(p->skip, p->len - pos);
			pos += s;
			p->skip -= s;
			if(p->skip)
				break;
		}
		uint8_t *nl = memchr(p->buf + pos, '\n', p->len - pos);
		if(!nl)
			break;
		*nl = '\0';
		bool decrypting = false;
		if(!handle_line(p, (char *)p->buf + pos, &decrypting)) {
			p->closed = true;
			return false;
		}
		pos = (size_t)(nl - p->buf) + 1;
		/* Everything after their METAKEY line was encrypted. */
		if(decrypting && !stream_cipher_update(p->in, p->buf + pos, p->len - pos, p->buf + pos))
			return false;
	}
	memmove(p->buf, p->buf + pos, p->len - pos);
	p->len -= pos;
	if(p->len == sizeof(p->buf))
		p->len = 0; /* a line longer than anything tinc sends: discard */
	return true;
}

static void disconnect(peer_t *p) {
	if(p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	if(p->out)
		stream_cipher_free(p->out);
	if(p->in)
		stream_cipher_free(p->in);
	p->out = p->in = NULL;
	free(p->challenge_received);
	p->challenge_received = NULL;
	p->len = p->skip = 0;
	p->active = p->pong = p->closed = false;
}

static bool connect_peer(peer_t *p, const char *host, const char *port) {
	disconnect(p);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	if(getaddrinfo(host, port, &hints, &ai))
		return false;
	p->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = p->fd >= 0 && connect(p->fd, ai->ai_addr, ai->ai_addrlen) == 0;
	freeaddrinfo(ai);
	if(!ok)
		return false;
	char *id = xasprintf("0 %s 17", p->name);
	send_line(p, id);
	free(id);
	uint64_t deadline = clock_now_ns() + 10 * NSEC_PER_SEC;
	while(!p->active && clock_now_ns() < deadline)
		if(!pump(p, 200))
			return false;
	return p->active;
}

/* Does the daemon still talk to us? */
static bool still_open(peer_t *p) {
	p->pong = false;
	if(p->closed || !send_line(p, "8"))
		return false;
	uint64_t deadline = clock_now_ns() + 2 * NSEC_PER_SEC;
	while(!p->pong && clock_now_ns() < deadline)
		if(!pump(p, 100))
			return false;
	return p->pong;
}

static void expand(const char *tmpl, unsigned i, char *out, size_t outlen) {
	size_t o = 0;
	for(const char *s = tmpl; *s && o + 16 < outlen; s++) {
		if(s[0] == '{' && s[1] && s[2] == '}') {
			switch(s[1]) {
			case 'i': o += (size_t)snprintf(out + o, outlen - o, "%u", i); break;
			case 'x': o += (size_t)snprintf(out + o, outlen - o, "%x", i); break;
			case 'a': o += (size_t)snprintf(out + o, outlen - o, "%u", (i >> 8) & 255); break;
			case 'b': o += (size_t)snprintf(out + o, outlen - o, "%u", i & 255); break;
			default: out[o++] = *s; continue;
			}
			s += 2;
			continue;
		}
		out[o++] = *s;
	}
	out[o] = '\0';
}

int main(int argc, char **argv) {
	const char *dir = NULL, *name = NULL, *target = NULL, *host = NULL, *port = NULL, *script = NULL;
	int limit = 60, opt;
	while((opt = getopt(argc, argv, "c:n:t:a:p:s:T:")) != -1) {
		switch(opt) {
		case 'c': dir = optarg; break;
		case 'n': name = optarg; break;
		case 't': target = optarg; break;
		case 'a': host = optarg; break;
		case 'p': port = optarg; break;
		case 's': script = optarg; break;
		case 'T': limit = atoi(optarg); break;
		default: die(1, "usage: evilpeer -c DIR -n NAME -t TARGET -a HOST -p PORT -s SCRIPT [-T S]", "");
		}
	}
	if(!dir || !name || !target || !host || !port || !script)
		die(1, "usage: evilpeer -c DIR -n NAME -t TARGET -a HOST -p PORT -s SCRIPT [-T S]", "");
	alarm((unsigned)limit); /* never outlive the test */
	signal(SIGPIPE, SIG_IGN);
	crypto_init();

	peer_t p = {.fd = -1, .name = name};
	char err[256];
	char *path = xasprintf("%s/rsa_key.priv", dir);
	p.mykey = rsa_read_private(path, err, sizeof(err));
	free(path);
	path = xasprintf("%s/hosts/%s", dir, target);
	p.theirkey = rsa_read_public(path, err, sizeof(err));
	free(path);
	if(!p.mykey || !p.theirkey)
		die(2, "keys: ", err);
	p.k = rsa_size(p.theirkey);

	FILE *f = fopen(script, "r");
	if(!f)
		die(2, "cannot open ", script);
	static char line[65536], out[65536];
	int failed = 0, passed = 0, lineno = 0;
	while(fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if(!*line || *line == '#')
			continue;
		if(!strcmp(line, "@connect")) {
			bool ok = connect_peer(&p, host, port);
			printf("line %d: connect %s\n", lineno, ok ? "ok" : "FAILED");
			if(!ok)
				failed++;
		} else if(!strncmp(line, "@repeat ", 8)) {
			char *rest;
			unsigned long n = strtoul(line + 8, &rest, 10);
			rest += strspn(rest, " ");
			for(unsigned i = 0; i < n && !p.closed; i++) {
				expand(rest, i, out, sizeof(out));
				send_line(&p, out);
				if(!(i % 64))
					pump(&p, 0);
			}
		} else if(!strncmp(line, "@raw ", 5)) {
			size_t n = strtoul(line + 5, NULL, 10);
			uint8_t *x = xmalloc(n ? n : 1);
			memset(x, 'x', n);
			send_bytes(&p, x, n);
			free(x);
		} else if(!strncmp(line, "@sleep ", 7)) {
			uint64_t until = clock_now_ns() + strtoull(line + 7, NULL, 10) * NSEC_PER_MSEC;
			while(clock_now_ns() < until && !p.closed)
				pump(&p, 50);
		} else if(!strncmp(line, "@expect ", 8)) {
			bool want_open = !strcmp(line + 8, "open");
			bool open = still_open(&p);
			bool ok = open == want_open;
			printf("line %d: expect %s: %s (%s)\n", lineno, line + 8, ok ? "ok" : "FAILED",
			       open ? "open" : "closed");
			ok ? passed++ : failed++;
		} else {
			send_line(&p, line);
			pump(&p, 0);
		}
		fflush(stdout);
	}
	fclose(f);
	printf("evilpeer: %lu lines sent, %lu received, %d expectations passed, %d failed\n", p.lines_out,
	       p.lines_in, passed, failed);
	disconnect(&p);
	rsa_free(p.mykey);
	rsa_free(p.theirkey);
	crypto_exit();
	return failed;
}

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scripted fake vfio-user server for the client's tests: a thread on one end of a
 * socketpair() runs a test's script, which receives the client's messages (each recorded, with
 * its fds, for the test to check after fake_finish()) and sends whatever replies, requests or
 * garbage the case needs. The script never checks anything itself (the TAP harness is not
 * thread-safe); it only records, and notes a failure to send or receive in fs->failed.
 */
#ifndef UMDEV_TESTS_CLIENT_FAKE_SERVER_H
#define UMDEV_TESTS_CLIENT_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <umdev/client.h>

#include "transport/vfio-user/vfio_user_proto.h"

#define FAKE_MAX_MSGS 512
#define FAKE_MAX_FDS 64
/* how long a script waits for the client's next message */
#define FAKE_TIMEOUT_MS 5000

/* The capabilities the fake server answers VERSION with unless a case gives others. */
#define FAKE_DEFAULT_CAPS                                                              \
	"{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576,"           \
	"\"pgsizes\":4096,\"max_dma_maps\":65535,\"write_multiple\":true}}"

struct fake_msg {
	struct vfu_hdr hdr;
	uint8_t *payload; /* malloc'd, NULL when empty */
	size_t len;
	int fds[FAKE_MAX_FDS];
	size_t nfds;
};

struct fake_server;
struct fake_canned;
typedef void (*fake_script_fn)(struct fake_server *fs);

struct fake_server {
	int fd;	       /* the server's end */
	int listen_fd; /* fake_listen(): until the client is accepted */
	pthread_t thread;
	bool started;
	fake_script_fn script;
	void *arg;		 /* for the script */
	const struct fake_canned *canned; /* fake_connect_canned()'s replies */
	size_t ncanned;
	bool handshake;		 /* fake_connect(): answer VERSION first, */
	const char *caps_json;	 /* with this JSON */
	struct fake_msg msgs[FAKE_MAX_MSGS]; /* what the client sent, in order */
	size_t nmsgs;
	int failed; /* sends or receives of the script that failed */
};

/* Starts @script on a new socketpair; *@client_fd gets the client's end. */
int fake_start(struct fake_server *fs, fake_script_fn script, void *arg, int *client_fd);

/* Starts a server that answers VERSION with @caps_json (NULL: FAKE_DEFAULT_CAPS) and then
 * runs @script (may be NULL), and connects a client to it. Returns umdev_client_connect_fd()'s
 * result; the server is running either way (fake_finish(), fake_cleanup()). */
int fake_connect(struct fake_server *fs, const char *caps_json, fake_script_fn script, void *arg,
		 struct umdev_client **ret_client);

/* The same on a listening socket at @path: the thread accepts one client, then answers
 * VERSION and runs @script (umdev_client_connect() tests). */
int fake_listen(struct fake_server *fs, const char *path, const char *caps_json,
		fake_script_fn script, void *arg);

/* Waits for the script to end; returns fs->failed. */
int fake_finish(struct fake_server *fs);

/* Closes the server's end and every fd recorded; frees the records. */
void fake_cleanup(struct fake_server *fs);

/* ---- for scripts ---- */

/* The client's next message, recorded; NULL on EOF, error or FAKE_TIMEOUT_MS of silence,
 * which count as failures (fake_recv_or_eof(): all but EOF). */
struct fake_msg *fake_recv(struct fake_server *fs);
struct fake_msg *fake_recv_or_eof(struct fake_server *fs);

/* Sends raw bytes, @fds attached. */
int fake_send(struct fake_server *fs, const void *buf, size_t len, const int *fds, size_t nfds);

/* Sends a message with this header (its size computed) and payload. */
int fake_send_msg(struct fake_server *fs, uint16_t id, uint16_t command, uint32_t flags,
		  uint32_t error, const void *payload, size_t len, const int *fds, size_t nfds);

/* A reply to @req (same id and command, type reply). */
int fake_reply(struct fake_server *fs, const struct fake_msg *req, const void *payload,
	       size_t len, const int *fds, size_t nfds);
int fake_reply_error(struct fake_server *fs, const struct fake_msg *req, uint32_t error);

/* Answers VERSION with @json (NUL included). */
int fake_version(struct fake_server *fs, const char *json);

/* Waits until the client closed its end (true) or @timeout_ms passed. */
bool fake_wait_eof(struct fake_server *fs, int timeout_ms);

/* A script that answers each message of the client with the next of a list of replies
 * (fake_connect_canned()). */
struct fake_canned {
	const void *payload;
	size_t len;
	uint32_t error;	  /* an error reply with this errno (and the payload, if any) */
	int id_delta;	  /* the reply's id is the request's plus this */
	uint16_t command; /* nonzero: the reply's command instead of the request's */
	uint32_t flags;	  /* nonzero: the reply's flags instead of reply (| error) */
	const int *fds;	  /* sent along (still the case's to close) */
	size_t nfds;
	bool silent;	  /* no reply at all (a posted message) */
};

void fake_canned(struct fake_server *fs);

/* fake_connect() with fake_canned answering with @replies[0..n) (which must live until
 * fake_finish()). */
int fake_connect_canned(struct fake_server *fs, const char *caps_json,
			const struct fake_canned *replies, size_t n,
			struct umdev_client **ret_client);

/* ---- for cases ---- */

uint32_t fake_u32(const struct fake_msg *m, size_t off);
uint64_t fake_u64(const struct fake_msg *m, size_t off);
/* Whether @a and @b are the same open file (same inode). */
bool fake_same_file(int a, int b);

#endif

/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A connection of the control socket, on its own thread: it reads requests into a buffer
 * of CTL_MAX_REQUEST bytes, serves each complete line in order and writes its reply line
 * (the replies to the lines of one read go out together: a client that sends many requests
 * at once is woken once for their replies, not once each), and, once subscribed, writes
 * the queued event lines as they come. A line that does not fit the buffer gets an error
 * reply and the connection is closed (the stream cannot be trusted to resynchronise); so is
 * a client that does not read its replies for CTL_WRITE_TIMEOUT_MS, and a subscriber that
 * falls CTL_MAX_EVENTS_QUEUED events behind (after an "overflow" event). Stopping the server wakes the thread through stop_fd.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mgmt/ctl/ctl_private.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int ctl_write_all(int fd, const char *buf, size_t len, int stop_fd)
{
	long long deadline = now_ms() + CTL_WRITE_TIMEOUT_MS;

	while (len) {
		struct pollfd p[2] = { { fd, POLLOUT, 0 }, { stop_fd, POLLIN, 0 } };
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		long long left;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			return -errno;
		if (p[1].revents)
			return -ECANCELED;
	}
	return 0;
}

int ctl_queue_reply(struct ctl_conn *conn, struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(
		obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len;

	if (!text)
		return -ENOMEM;
	len = strlen(text);
	if (conn->out_cap - conn->out_len < len + 1) {
		size_t cap = conn->out_cap ? conn->out_cap : 1024;
		char *out;

		while (cap - conn->out_len < len + 1)
			cap *= 2;
		out = realloc(conn->out, cap);
		if (!out)
			return -ENOMEM;
		conn->out = out;
		conn->out_cap = cap;
	}
	memcpy(conn->out + conn->out_len, text, len);
	conn->out[conn->out_len + len] = '\n';
	conn->out_len += len + 1;
	return 0;
}

/* Writes the queued replies (one send for all the lines of a read); 0 or -errno. */
static int flush_replies(struct ctl_conn *conn)
{
	int ret = ctl_write_all(conn->fd, conn->out, conn->out_len, conn->srv->stop_fd);

	conn->out_len = 0;
	if (conn->out_cap > CTL_REPLY_BUFFER_KEEP) {
		free(conn->out);
		conn->out = NULL;
		conn->out_cap = 0;
	}
	return ret;
}

/* Writes the queued events; 0, or -errno to close the connection. */
static int flush_events(struct ctl_conn *conn)
{
	char *line;
	int ret;

	while ((ret = ctl_events_take(conn, &line)) == 1) {
		size_t len = strlen(line);

		line[len] = '\n'; /* the queue keeps room for it */
		ret = ctl_write_all(conn->fd, line, len + 1, conn->srv->stop_fd);
		free(line);
		if (ret)
			return ret;
	}
	if (ret == -EOVERFLOW) {
		static const char msg[] =
			"{\"event\":\"overflow\",\"error\":\"events were lost: the client fell behind\"}\n";

		ctl_write_all(conn->fd, msg, sizeof(msg) - 1, conn->srv->stop_fd);
	}
	return ret;
}

/* Serves the complete lines in the buffer; 0, or -errno to close the connection. */
static int serve_lines(struct ctl_conn *conn)
{
	size_t start = 0;
	int ret = 0;

	while (!ret) {
		char *nl = memchr(conn->buf + start, '\n', conn->len - start);
		struct json_object *reply;
		bool subscribe = false;
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (conn->buf + start));
		if (len) {
			reply = ctl_dispatch(conn, conn->buf + start, len, &subscribe);
			ret = reply ? ctl_queue_reply(conn, reply) : -ENOMEM;
			json_object_put(reply);
			/* events come after the reply that subscribed */
			if (!ret && (subscribe || conn->out_len >= CTL_REPLY_BUFFER_KEEP))
				ret = flush_replies(conn);
			if (!ret && subscribe)
				ret = flush_events(conn);
		}
		start += len + 1;
	}
	if (!ret && conn->out_len)
		ret = flush_replies(conn);
	memmove(conn->buf, conn->buf + start, conn->len - start);
	conn->len -= start;
	if (!ret && conn->len == sizeof(conn->buf)) {
		char msg[96];
		struct json_object *reply;

		snprintf(msg, sizeof(msg), "request too long (a line has at most %d bytes)",
			 CTL_MAX_REQUEST);
		reply = ctl_error_reply(EMSGSIZE, msg);
		if (reply && !ctl_queue_reply(conn, reply))
			flush_replies(conn);
		json_object_put(reply);
		ret = -EMSGSIZE;
	}
	return ret;
}

/* Reads what the client sent; 0, or -errno (or 1 at its end) to close the connection. */
static int read_input(struct ctl_conn *conn)
{
	ssize_t n = recv(conn->fd, conn->buf + conn->len, sizeof(conn->buf) - conn->len,
			 MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (n == 0)
		return 1;
	conn->len += (size_t)n;
	return serve_lines(conn);
}

/*
 * Ends a connection whose input cannot be trusted any more, after its error reply: no more
 * output, and what the client still sends is read and dropped (for at most 1 s or 1 MiB),
 * so that it sees the reply and then the end of the stream rather than a reset.
 */
static void drain(struct ctl_conn *conn)
{
	long long deadline = now_ms() + 1000;
	size_t dropped = 0;

	shutdown(conn->fd, SHUT_WR);
	while (dropped < (1u << 20)) {
		struct pollfd p = { conn->fd, POLLIN, 0 };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		n = recv(conn->fd, conn->buf, sizeof(conn->buf), MSG_DONTWAIT);
		if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR)))
			break;
		if (n > 0)
			dropped += (size_t)n;
	}
}

void *ctl_conn_main(void *arg)
{
	struct ctl_conn *conn = arg;
	struct ctl_server *srv = conn->srv;
	int ret = 0;

	while (!ret) {
		struct pollfd p[3] = {
			{ conn->fd, POLLIN, 0 },
			{ srv->stop_fd, POLLIN, 0 },
			{ conn->sub ? conn->sub->wake_fd : -1, POLLIN, 0 },
		};
		uint64_t count;

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (p[2].revents) {
			if (read(p[2].fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
				break;
			ret = flush_events(conn);
		}
		if (!ret && p[0].revents)
			ret = read_input(conn);
	}
	if (ret == -EMSGSIZE)
		drain(conn);
	ctl_events_unsubscribe(conn);
	free(conn->out);
	close(conn->fd);
	pthread_mutex_lock(&srv->lock);
	conn->done = true;
	srv->nconns--;
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* The per-connection state machine over a real socketpair: both request forms,
 * partial input, deadlines, EOF. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "saslauthd/connection.h"

static struct conn c;
static int client_fd;

static int setup(void **state)
{
	int sv[2];
	(void)state;
	log_init("saslauthd-test", false, false);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	conn_init(&c, sv[0], 1000);
	client_fd = sv[1];
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	conn_close(&c);
	close(client_fd);
	return 0;
}

static void send_request(const char *addr, size_t cut)
{
	unsigned char buf[256];
	size_t n = protocol_encode_request(buf, sizeof(buf), "bob", "pw", "smtp", "", addr);
	assert_int_equal(write(client_fd, buf, cut ? cut : n), (ssize_t)(cut ? cut : n));
}

static void four_fields_complete_at_once(void **state)
{
	(void)state;
	send_request(NULL, 0);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_COMPLETE);
	assert_int_equal(c.req.field_count, 4);
	assert_string_equal(c.req.login, "bob");
}

static void five_fields_complete(void **state)
{
	(void)state;
	send_request("10.0.0.1;25", 0);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_COMPLETE);
	assert_int_equal(c.req.field_count, 5);
	assert_string_equal(c.req.client_addr, "10.0.0.1;25");
}

static void partial_fifth_field_waits_briefly(void **state)
{
	(void)state;
	send_request("10.0.0.1;25", 20); /* 4 fields are 17 bytes, then 3 of the 5th */
	assert_int_equal(conn_on_readable(&c, 1000), CONN_WAITING);
	assert_int_equal(conn_deadline(&c), 1000 + CONN_FIFTH_FIELD_GRACE_MS);
	assert_int_equal(conn_on_deadline(&c, 1000 + CONN_FIFTH_FIELD_GRACE_MS), CONN_COMPLETE);
	assert_int_equal(c.req.field_count, 4);
	assert_string_equal(c.req.password, "pw");
}

static void incomplete_request_times_out(void **state)
{
	(void)state;
	send_request(NULL, 9);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_WAITING);
	assert_int_equal(conn_deadline(&c), 1000 + CONN_REQUEST_DEADLINE_MS);
	assert_int_equal(conn_on_deadline(&c, 1000 + CONN_REQUEST_DEADLINE_MS - 1), CONN_WAITING);
	assert_int_equal(conn_on_deadline(&c, 1000 + CONN_REQUEST_DEADLINE_MS), CONN_CLOSED);
}

static void rest_arrives_later(void **state)
{
	unsigned char buf[256];
	(void)state;
	size_t n = protocol_encode_request(buf, sizeof(buf), "bob", "pw", "smtp", "r", NULL);
	assert_int_equal(write(client_fd, buf, 5), 5);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_WAITING);
	assert_int_equal(write(client_fd, buf + 5, n - 5), (ssize_t)(n - 5));
	assert_int_equal(conn_on_readable(&c, 1200), CONN_COMPLETE);
	assert_string_equal(c.req.realm, "r");
}

static void eof_mid_request_closes(void **state)
{
	(void)state;
	send_request(NULL, 9);
	shutdown(client_fd, SHUT_WR);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_CLOSED);
}

static void half_close_after_four_fields_is_answered(void **state)
{
	(void)state;
	send_request(NULL, 0);
	shutdown(client_fd, SHUT_WR);
	assert_int_equal(conn_on_readable(&c, 1000), CONN_COMPLETE);
}

static void hurry_shortens_the_deadline(void **state)
{
	(void)state;
	conn_hurry(&c, 1500);
	assert_int_equal(conn_deadline(&c), 1500);
	conn_hurry(&c, 99999);
	assert_int_equal(conn_deadline(&c), 1500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(four_fields_complete_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(five_fields_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(partial_fifth_field_waits_briefly, setup, teardown),
		cmocka_unit_test_setup_teardown(incomplete_request_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(rest_arrives_later, setup, teardown),
		cmocka_unit_test_setup_teardown(eof_mid_request_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(half_close_after_four_fields_is_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(hurry_shortens_the_deadline, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

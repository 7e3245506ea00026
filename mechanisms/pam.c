/* pam: Linux-PAM with the request's service as the PAM service name (Postfix asks as
 * "smtp", so /etc/pam.d/smtp applies), pam_authenticate then pam_acct_mgmt, as Cyrus. */
#include "mechanisms/mechanism.h"

#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/secret.h"
#include "common/strutil.h"

/* What the conversation answers with. */
struct sa_pam_answers {
	pam_handle_t *handle;
	const char *login;
	const char *password;
};

/* Linux-PAM's prompt when PAM_USER_PROMPT is unset (pam_get_user). */
#define SA_PAM_DEFAULT_USER_PROMPT "login: "

static void free_responses(struct pam_response *resp, int n)
{
	for (int i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			secret_wipe(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/* An echo-on prompt is answered with the login only when it is the user prompt (Cyrus
 * compared with PAM_USER_PROMPT even when unset, and crashed); any other echo-on
 * prompt (a token, a question) is something we cannot answer. */
static bool is_user_prompt(const struct sa_pam_answers *answers, const char *prompt)
{
	const void *item = NULL;

	if (pam_get_item(answers->handle, PAM_USER_PROMPT, &item) != PAM_SUCCESS || item == NULL)
		item = SA_PAM_DEFAULT_USER_PROMPT;
	return prompt != NULL && strcmp(prompt, item) == 0;
}

/* The answer to one message: NULL with *ok true for messages that need none. */
static const char *answer_for(const struct sa_pam_answers *answers, const struct pam_message *m,
                              bool *ok)
{
	*ok = true;
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_OFF:
		/* Every echo-off prompt (stacked modules ask again) gets the password. */
		return answers->password;
	case PAM_PROMPT_ECHO_ON:
		if (is_user_prompt(answers, m->msg))
			return answers->login;
		log_mech(LOG_DEBUG, "DEBUG: saslauthd_pam_conv: unknown prompt string: %s",
		         m->msg != NULL ? m->msg : "");
		break;
	case PAM_ERROR_MSG:
	case PAM_TEXT_INFO:
		return NULL;
	default:
		log_mech(LOG_DEBUG, "DEBUG: saslauthd_pam_conv: unsupported message style %d",
		         m->msg_style);
		break;
	}
	*ok = false;
	return NULL;
}

/* Fails the whole conversation on anything it cannot answer rather than guessing. */
static int conversation(int n, const struct pam_message **msg, struct pam_response **out,
                        void *data)
{
	const struct sa_pam_answers *answers = data;
	struct pam_response *resp;
	bool needs_reply = false;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	resp = calloc((size_t)n, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		bool ok;
		const char *answer = answer_for(answers, msg[i], &ok);
		if (!ok) {
			free_responses(resp, n);
			return PAM_CONV_ERR;
		}
		if (answer == NULL)
			continue;
		needs_reply = true;
		resp[i].resp = strdup(answer);
		if (resp[i].resp == NULL) {
			free_responses(resp, n);
			return PAM_BUF_ERR;
		}
	}
	/* Some modules send info/error text without a place for responses. */
	if (out == NULL) {
		free_responses(resp, n);
		return needs_reply ? PAM_CONV_ERR : PAM_SUCCESS;
	}
	*out = resp;
	return PAM_SUCCESS;
}

/* PAM_RHOST from a client address "ip;port" (Cyrus master's behaviour). */
static int set_rhost(pam_handle_t *h, const char *client_addr)
{
	char host[MECH_HOST_MAX + 1];

	/* request.c refuses longer ones; never run PAM without the host it was sent. */
	if (!mech_client_host(client_addr, host, sizeof(host)))
		return PAM_BAD_ITEM;
	if (host[0] == '\0')
		return PAM_SUCCESS;
	return pam_set_item(h, PAM_RHOST, host);
}

/* The client names the PAM service, so it must not be able to pick a stack meant for
 * something else: with --pam-services only those names; without it any plain name except
 * the system services whose stacks trust root or the caller (pam_rootok, pam_permit,
 * autologin) or that are not about a password check at all. Linux-PAM lowercases the
 * service name, so comparisons ignore case. */
#define SA_PAM_SERVICES_MAX 32
#define SA_PAM_SERVICE_NAME_MAX 64

static const char *const sa_pam_denied_services[] = {
	"su", "su-l", "runuser", "runuser-l", "sudo", "sudo-i", "login", "passwd", "chfn",
	"chsh", "chpasswd", "chage", "newusers", "newgrp", "polkit-1", "systemd-user", "cron",
	"atd", "sshd", "remote", "rlogin", "rsh", "vlock", "screen", "xscreensaver",
	"gdm-password", "gdm-autologin", "gdm-launch-environment", "lightdm",
	"lightdm-autologin", "lightdm-greeter", "sddm", "sddm-autologin", "sddm-greeter",
};

static struct {
	int count; /* 0: no --pam-services, the deny-list applies */
	char names[SA_PAM_SERVICES_MAX][SA_PAM_SERVICE_NAME_MAX + 1];
} sa_pam_allowed;

/* A name Linux-PAM can only take as a file in its own directory. */
static bool sa_pam_plain_name(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-");

	return n > 0 && s[n] == '\0' && s[0] != '.' && n <= SA_PAM_SERVICE_NAME_MAX;
}

static bool sa_pam_in_list(const char *service)
{
	for (int i = 0; i < sa_pam_allowed.count; i++) {
		if (strcasecmp(service, sa_pam_allowed.names[i]) == 0)
			return true;
	}
	return false;
}

static bool sa_pam_denied(const char *service)
{
	for (size_t i = 0; i < sizeof(sa_pam_denied_services) / sizeof(sa_pam_denied_services[0]); i++) {
		if (strcasecmp(service, sa_pam_denied_services[i]) == 0)
			return true;
	}
	return false;
}

/* NULL when the request may use this service, else why not (for the log). */
static const char *sa_pam_service_refusal(const char *service)
{
	/* No name at all gets Linux-PAM's "other" stack, as any unknown name does (and as
	 * with Cyrus); an allow-list never lists it. */
	if (service[0] == '\0')
		return sa_pam_allowed.count > 0 ? "not in --pam-services" : NULL;
	if (!sa_pam_plain_name(service))
		return "not a plain service name";
	if (sa_pam_allowed.count > 0)
		return sa_pam_in_list(service) ? NULL : "not in --pam-services";
	return sa_pam_denied(service) ? "a system service (see --pam-services)" : NULL;
}

static int sa_pam_parse_services(const char *list, char *err, size_t errsz)
{
	char copy[SA_PAM_SERVICES_MAX * (SA_PAM_SERVICE_NAME_MAX + 1)];
	char *save = NULL;

	sa_pam_allowed.count = 0;
	if (!str_copy(copy, sizeof(copy), list)) {
		str_format(err, errsz, "--pam-services: list too long");
		return -1;
	}
	for (char *name = strtok_r(copy, ",", &save); name != NULL;
	     name = strtok_r(NULL, ",", &save)) {
		if (!sa_pam_plain_name(name)) {
			str_format(err, errsz, "--pam-services: not a plain service name: %s", name);
			return -1;
		}
		if (sa_pam_allowed.count == SA_PAM_SERVICES_MAX) {
			str_format(err, errsz, "--pam-services: more than %d names", SA_PAM_SERVICES_MAX);
			return -1;
		}
		str_copy(sa_pam_allowed.names[sa_pam_allowed.count++], SA_PAM_SERVICE_NAME_MAX + 1, name);
	}
	if (sa_pam_allowed.count == 0) {
		str_format(err, errsz, "--pam-services: no service names given");
		return -1;
	}
	return 0;
}

static int sa_pam_init(const struct mech_settings *settings, char *err, size_t errsz)
{
	if (settings->services == NULL) {
		sa_pam_allowed.count = 0;
		return 0;
	}
	return sa_pam_parse_services(settings->services, err, errsz);
}

static void sa_pam_auth(const struct mech_request *req, struct mech_result *result)
{
	const char *refusal = sa_pam_service_refusal(req->service);

	if (refusal != NULL) {
		/* Cyrus passed any name to pam_start (root, service su: OK). */
		mech_result_set(result, VERDICT_NO, "NO PAM service not allowed",
		                "PAM service not allowed: %s: %s", req->service, refusal);
		return;
	}
	struct sa_pam_answers answers = { .login = req->login, .password = req->password };
	struct pam_conv conv = { .conv = conversation, .appdata_ptr = &answers };
	pam_handle_t *h = NULL;
	int rc = pam_start(req->service, req->login, &conv, &h);

	answers.handle = h;
	if (rc != PAM_SUCCESS) {
		log_mech(LOG_DEBUG, "DEBUG: auth_pam: pam_start failed: %s", pam_strerror(h, rc));
		mech_result_set(result, VERDICT_FAIL, "NO PAM start error", "PAM start error: %s",
		                pam_strerror(h, rc));
		return;
	}
	rc = set_rhost(h, req->client_addr);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(h, PAM_SILENT);
	if (rc != PAM_SUCCESS) {
		log_mech(LOG_DEBUG, "DEBUG: auth_pam: pam_authenticate failed: %s",
		         pam_strerror(h, rc));
		mech_result_set(result, VERDICT_NO, "NO PAM auth error", "PAM auth error: %s",
		                pam_strerror(h, rc));
	} else if ((rc = pam_acct_mgmt(h, PAM_SILENT)) != PAM_SUCCESS) {
		log_mech(LOG_DEBUG, "DEBUG: auth_pam: pam_acct_mgmt failed: %s", pam_strerror(h, rc));
		mech_result_set(result, VERDICT_NO, "NO PAM acct error", "PAM acct error: %s",
		                pam_strerror(h, rc));
	} else {
		mech_result_set(result, VERDICT_OK, "OK", NULL);
	}
	pam_end(h, rc);
}

const struct mechanism mech_pam = {
	.name = "pam",
	.needs_root = true,
	.init = sa_pam_init,
	.auth = sa_pam_auth,
};

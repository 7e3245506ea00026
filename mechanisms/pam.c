/* pam: Linux-PAM with the request's service as the PAM service name (Postfix asks as
 * "smtp", so /etc/pam.d/smtp applies), pam_authenticate then pam_acct_mgmt, as Cyrus. */
#include "mechanisms/mechanism.h"

#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/secret.h"

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
	char host[256];
	size_t n = strcspn(client_addr, ";");

	if (n == 0 || n >= sizeof(host))
		return PAM_SUCCESS;
	memcpy(host, client_addr, n);
	host[n] = '\0';
	return pam_set_item(h, PAM_RHOST, host);
}

static void sa_pam_auth(const struct mech_request *req, struct mech_result *result)
{
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
	.auth = sa_pam_auth,
};

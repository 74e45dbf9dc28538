/* X-Mandrill-Signature against the real captured vector. */
#include <stdio.h>
#include <stdlib.h>

#include "tap.h"
#include "core/core.h"

#define FIXTURE "tests/fixtures/mandrill/click_with_signature.form-value.txt"
#define KEY "ntynTMaFpM_octE5R1DKAw"
#define URL "http://requestb.in/q9a918q9"
#define SIG "7rUa4lNJitlb178MgGOcHO6T4Bg="

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 32);
	memcpy(buf, "mandrill_events=", 16);
	*len = 16 + fread(buf + 16, 1, (size_t)n, fp);
	fclose(fp);
	while (*len > 16 && (buf[*len - 1] == '\n' || buf[*len - 1] == '\r'))
		(*len)--;
	buf[*len] = '\0';
	return buf;
}

int
main(void)
{
	struct mh_form f = { 0 }, empty = { 0 };
	char sig[29];
	size_t len = 0;
	char *body = slurp(FIXTURE, &len);

	if (!ok(body != NULL, "fixture %s readable", FIXTURE))
		return done_testing();
	ok(mh_form_parse(body, len, &f) == MH_FORM_OK, "fixture decodes");
	ok(mh_signature_compute(KEY, strlen(KEY), URL, &f, sig) == 0, "computed");
	is_str(sig, SIG, "signature over the decoded value matches Mandrill's");
	ok(mh_signature_verify(KEY, URL, &f, SIG), "verify accepts it");
	ok(mh_signature_verify("other," KEY, URL, &f, SIG),
	    "any key of a comma-separated list");
	ok(mh_signature_verify("other , " KEY " ", URL, &f, SIG),
	    "spaces around listed keys are ignored");
	ok(!mh_signature_verify("other", URL, &f, SIG), "wrong key refused");
	ok(!mh_signature_verify(KEY, URL "/", &f, SIG), "other URL refused");
	ok(!mh_signature_verify(KEY, URL, &f, "5ppuHvUxAHxzm2UuoOtwidQcEoU="),
	    "signature of the still-encoded value refused");
	ok(!mh_signature_verify(KEY, URL, &f, ""), "empty header refused");
	ok(!mh_signature_verify(KEY, URL, &f, SIG "x"), "longer header refused");
	ok(!mh_signature_verify("", URL, &f, SIG), "no key, no match");

	/* Mandrill's test POST: an empty batch signed with "test-webhook". */
	ok(mh_form_parse("mandrill_events=%5B%5D", 22, &empty) == MH_FORM_OK,
	    "test POST decodes");
	ok(mh_signature_compute("test-webhook", 12, "http://x/", &empty,
	    sig) == 0 && mh_signature_verify("test-webhook", "http://x/",
	    &empty, sig), "test POST signature round-trips");
	mh_form_free(&empty);
	mh_form_free(&f);
	free(body);
	return done_testing();
}

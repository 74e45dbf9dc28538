/*
 * Telephone numbers of any country, read and checked by libphonenumber
 * (Google's, Debian's libphonenumber-dev) behind the C interface of
 * phone.h. Nothing here throws past its function: each catches all and
 * answers -1, as the C that calls it expects.
 */
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "phone.h"

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

namespace {

/* The words of a number's type, as the API says them. */
const char *
mh_phone_type_name(PhoneNumberUtil::PhoneNumberType t)
{
	switch (t) {
	case PhoneNumberUtil::FIXED_LINE: return "fixed_line";
	case PhoneNumberUtil::MOBILE: return "mobile";
	case PhoneNumberUtil::FIXED_LINE_OR_MOBILE:
		return "fixed_line_or_mobile";
	case PhoneNumberUtil::TOLL_FREE: return "toll_free";
	case PhoneNumberUtil::PREMIUM_RATE: return "premium_rate";
	case PhoneNumberUtil::SHARED_COST: return "shared_cost";
	case PhoneNumberUtil::VOIP: return "voip";
	case PhoneNumberUtil::PERSONAL_NUMBER: return "personal_number";
	case PhoneNumberUtil::PAGER: return "pager";
	case PhoneNumberUtil::UAN: return "uan";
	case PhoneNumberUtil::VOICEMAIL: return "voicemail";
	default: return "unknown";
	}
}

/* Why a parsed number is not valid, in words. */
void
mh_phone_invalid(const PhoneNumberUtil *u, const PhoneNumber &n, char *why,
    size_t whylen)
{
	std::string region;

	switch (u->IsPossibleNumberWithReason(n)) {
	case PhoneNumberUtil::INVALID_COUNTRY_CODE:
		snprintf(why, whylen, "has no country code libphonenumber "
		    "knows (+%d)", n.country_code());
		return;
	case PhoneNumberUtil::TOO_SHORT:
		snprintf(why, whylen, "is too short for a number of +%d",
		    n.country_code());
		return;
	case PhoneNumberUtil::TOO_LONG:
		snprintf(why, whylen, "is too long for a number of +%d",
		    n.country_code());
		return;
	case PhoneNumberUtil::INVALID_LENGTH:
		snprintf(why, whylen, "has a length no number of +%d has",
		    n.country_code());
		return;
	default:
		break;
	}
	u->GetRegionCodeForCountryCode(n.country_code(), &region);
	snprintf(why, whylen, "is no number in use in %s (+%d): its area or "
	    "operator code is not one", region.c_str(), n.country_code());
}

/* Why text read in region ("ZZ": only international) is no number. */
void
mh_phone_unparsed(const PhoneNumberUtil *u, const std::string &text,
    const char *region, char *why, size_t whylen)
{
	PhoneNumber n;

	switch (u->Parse(text, region, &n)) {
	case PhoneNumberUtil::NO_PARSING_ERROR:
		mh_phone_invalid(u, n, why, whylen);
		break;
	case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
		snprintf(why, whylen, "has no country code libphonenumber knows "
		    "(%s)", text.c_str());
		break;
	case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
	case PhoneNumberUtil::TOO_SHORT_NSN:
		snprintf(why, whylen, "is too short for a telephone number");
		break;
	case PhoneNumberUtil::TOO_LONG_NSN:
		snprintf(why, whylen, "is too long for a telephone number");
		break;
	default:
		snprintf(why, whylen, "is not a telephone number");
		break;
	}
}

/* Only what people type around digits: a leading '+', spaces, dashes,
 * dots and parentheses (no letters: no vanity numbers, no extensions). */
int
mh_phone_chars_ok(const char *text, char *why, size_t whylen)
{
	size_t len = strlen(text), digits = 0;

	if (len == 0 || len > MH_PHONE_TEXT_MAX) {
		snprintf(why, whylen, "is 1 to %d characters", MH_PHONE_TEXT_MAX);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (!(c == '+' && digits == 0 && strchr(text, '+') ==
		    text + i) && strchr(" -.()", c) == NULL) {
			snprintf(why, whylen, "holds '%c': only digits, a leading "
			    "+, spaces, dashes, dots and parentheses", c >= 0x20 &&
			    c < 0x7f ? c : '?');
			return -1;
		}
	}
	if (digits > 0)
		return 0;
	snprintf(why, whylen, "holds no digit");
	return -1;
}

/* Parses text read in region ("ZZ": only international) into *n; whether
 * it is a valid number. */
bool
mh_phone_try(const PhoneNumberUtil *u, const std::string &text,
    const char *region, PhoneNumber *n)
{
	n->Clear();
	return u->Parse(text, region, n) == PhoneNumberUtil::NO_PARSING_ERROR &&
	    u->IsValidNumber(*n);
}

int
mh_phone_fill(const PhoneNumberUtil *u, const PhoneNumber &n,
    struct mh_phone *out)
{
	std::string e164, region, nsn;
	int ndc;

	u->Format(n, PhoneNumberUtil::E164, &e164);
	u->GetRegionCodeForNumber(n, &region);
	u->GetNationalSignificantNumber(n, &nsn);
	ndc = u->GetLengthOfNationalDestinationCode(n);
	if (e164.size() < 2 || e164.size() - 1 > MH_PHONE_DIGITS_MAX ||
	    region.size() >= sizeof(out->region) || ndc < 0 ||
	    (size_t)ndc > nsn.size())
		return -1;
	snprintf(out->digits, sizeof(out->digits), "%s", e164.c_str() + 1);
	snprintf(out->region, sizeof(out->region), "%s", region.c_str());
	snprintf(out->ndc, sizeof(out->ndc), "%.*s", ndc, nsn.c_str());
	out->type = mh_phone_type_name(u->GetNumberType(n));
	return 0;
}

} /* namespace */

extern "C" int
mh_phone_parse(const char *text, const char *region, struct mh_phone *out,
    char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (mh_phone_chars_ok(text, why, whylen) != 0)
		return -1;
	try {
		const PhoneNumberUtil *u = PhoneNumberUtil::GetInstance();
		const std::string s(text);
		bool national = s.find('+') == std::string::npos;
		const char *in = national && region != NULL && *region != '\0' ?
		    region : "ZZ";
		PhoneNumber n;

		if (mh_phone_try(u, s, in, &n) || (national &&
		    mh_phone_try(u, "+" + s, "ZZ", &n)))
			return mh_phone_fill(u, n, out) == 0 ? 0 :
			    (snprintf(why, whylen, "could not be read"), -1);
		/* Without a region, digits alone are read as E.164's: say what
		 * is wrong with that number, when it has a country code. */
		if (national && strcmp(in, "ZZ") == 0 && u->Parse("+" + s, "ZZ",
		    &n) == PhoneNumberUtil::NO_PARSING_ERROR)
			mh_phone_invalid(u, n, why, whylen);
		else if (national && strcmp(in, "ZZ") == 0)
			snprintf(why, whylen, "has no country code: write it with "
			    "one (+7 900 555 12 34), or set MAILHOOKS_DEFAULT_REGION "
			    "to read numbers written nationally");
		else
			mh_phone_unparsed(u, s, in, why, whylen);
	} catch (...) {
		snprintf(why, whylen, "could not be read (out of memory)");
	}
	return -1;
}

extern "C" int
mh_phone_region_ok(const char *region)
{
	try {
		return region != NULL && strlen(region) == 2 &&
		    PhoneNumberUtil::GetInstance()->GetCountryCodeForRegion(
		    region) != 0;
	} catch (...) {
		return 0;
	}
}

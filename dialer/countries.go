package dialer

import (
	"strings"
)

// country is one country or territory of the E.164 numbering plan.
type country struct {
	code   string // country calling code: "44"
	region string // ISO 3166-1 alpha-2: "GB"
	// trunk is the national prefix dialled before a national number ("0",
	// "1" in NANP, "8" in Russia, "06" in Hungary); "" when there is none
	// and a leading 0 belongs to the number (Italy). Mexico's "1" is the
	// mobile prefix of "+52 1 55...", dropped in 2019 and still written.
	trunk    string
	min, max int // length range of the national significant number
	// zones are the IANA time zones in use, space-separated: every zone
	// whose clock differs for the main countries, the capital's first.
	zones string
}

// countries lists every country calling code and the regions that share
// one; the first region of a shared code is its main one. Lengths are the
// national significant number's (after the country code), a little wide
// where a country mixes plans: a dialer must not refuse callable numbers.
var countries = []country{
	{"1", "US", "1", 10, 10, "America/New_York America/Chicago America/Denver America/Phoenix America/Los_Angeles America/Anchorage America/Adak Pacific/Honolulu"},
	{"1", "CA", "1", 10, 10, "America/Toronto America/Vancouver America/Edmonton America/Regina America/Winnipeg America/Halifax America/St_Johns America/Whitehorse"},
	{"1", "AG", "1", 10, 10, "America/Antigua"},
	{"1", "AI", "1", 10, 10, "America/Anguilla"},
	{"1", "AS", "1", 10, 10, "Pacific/Pago_Pago"},
	{"1", "BB", "1", 10, 10, "America/Barbados"},
	{"1", "BM", "1", 10, 10, "Atlantic/Bermuda"},
	{"1", "BS", "1", 10, 10, "America/Nassau"},
	{"1", "DM", "1", 10, 10, "America/Dominica"},
	{"1", "DO", "1", 10, 10, "America/Santo_Domingo"},
	{"1", "GD", "1", 10, 10, "America/Grenada"},
	{"1", "GU", "1", 10, 10, "Pacific/Guam"},
	{"1", "JM", "1", 10, 10, "America/Jamaica"},
	{"1", "KN", "1", 10, 10, "America/St_Kitts"},
	{"1", "KY", "1", 10, 10, "America/Cayman"},
	{"1", "LC", "1", 10, 10, "America/St_Lucia"},
	{"1", "MP", "1", 10, 10, "Pacific/Saipan"},
	{"1", "MS", "1", 10, 10, "America/Montserrat"},
	{"1", "PR", "1", 10, 10, "America/Puerto_Rico"},
	{"1", "SX", "1", 10, 10, "America/Lower_Princes"},
	{"1", "TC", "1", 10, 10, "America/Grand_Turk"},
	{"1", "TT", "1", 10, 10, "America/Port_of_Spain"},
	{"1", "VC", "1", 10, 10, "America/St_Vincent"},
	{"1", "VG", "1", 10, 10, "America/Tortola"},
	{"1", "VI", "1", 10, 10, "America/St_Thomas"},

	{"20", "EG", "0", 8, 10, "Africa/Cairo"},
	{"211", "SS", "0", 9, 9, "Africa/Juba"},
	{"212", "MA", "0", 9, 9, "Africa/Casablanca"},
	{"212", "EH", "0", 9, 9, "Africa/El_Aaiun"},
	{"213", "DZ", "0", 8, 9, "Africa/Algiers"},
	{"216", "TN", "", 8, 8, "Africa/Tunis"},
	{"218", "LY", "0", 8, 9, "Africa/Tripoli"},
	{"220", "GM", "", 7, 7, "Africa/Banjul"},
	{"221", "SN", "", 9, 9, "Africa/Dakar"},
	{"222", "MR", "", 8, 8, "Africa/Nouakchott"},
	{"223", "ML", "", 8, 8, "Africa/Bamako"},
	{"224", "GN", "", 8, 9, "Africa/Conakry"},
	{"225", "CI", "", 8, 10, "Africa/Abidjan"},
	{"226", "BF", "", 8, 8, "Africa/Ouagadougou"},
	{"227", "NE", "", 8, 8, "Africa/Niamey"},
	{"228", "TG", "", 8, 8, "Africa/Lome"},
	{"229", "BJ", "", 8, 10, "Africa/Porto-Novo"},
	{"230", "MU", "", 7, 8, "Indian/Mauritius"},
	{"231", "LR", "0", 7, 9, "Africa/Monrovia"},
	{"232", "SL", "0", 8, 8, "Africa/Freetown"},
	{"233", "GH", "0", 9, 9, "Africa/Accra"},
	{"234", "NG", "0", 7, 10, "Africa/Lagos"},
	{"235", "TD", "", 8, 8, "Africa/Ndjamena"},
	{"236", "CF", "", 8, 8, "Africa/Bangui"},
	{"237", "CM", "", 8, 9, "Africa/Douala"},
	{"238", "CV", "", 7, 7, "Atlantic/Cape_Verde"},
	{"239", "ST", "", 7, 7, "Africa/Sao_Tome"},
	{"240", "GQ", "", 9, 9, "Africa/Malabo"},
	{"241", "GA", "", 7, 9, "Africa/Libreville"},
	{"242", "CG", "", 9, 9, "Africa/Brazzaville"},
	{"243", "CD", "0", 7, 9, "Africa/Kinshasa Africa/Lubumbashi"},
	{"244", "AO", "", 9, 9, "Africa/Luanda"},
	{"245", "GW", "", 7, 9, "Africa/Bissau"},
	{"246", "IO", "", 7, 7, "Indian/Chagos"},
	{"247", "AC", "", 4, 6, "Atlantic/St_Helena"},
	{"248", "SC", "", 7, 7, "Indian/Mahe"},
	{"249", "SD", "0", 9, 9, "Africa/Khartoum"},
	{"250", "RW", "0", 9, 9, "Africa/Kigali"},
	{"251", "ET", "0", 9, 9, "Africa/Addis_Ababa"},
	{"252", "SO", "0", 7, 9, "Africa/Mogadishu"},
	{"253", "DJ", "", 8, 8, "Africa/Djibouti"},
	{"254", "KE", "0", 7, 10, "Africa/Nairobi"},
	{"255", "TZ", "0", 9, 9, "Africa/Dar_es_Salaam"},
	{"256", "UG", "0", 9, 9, "Africa/Kampala"},
	{"257", "BI", "", 8, 8, "Africa/Bujumbura"},
	{"258", "MZ", "", 8, 9, "Africa/Maputo"},
	{"260", "ZM", "0", 9, 9, "Africa/Lusaka"},
	{"261", "MG", "0", 9, 9, "Indian/Antananarivo"},
	{"262", "RE", "0", 9, 9, "Indian/Reunion"},
	{"262", "YT", "0", 9, 9, "Indian/Mayotte"},
	{"263", "ZW", "0", 5, 10, "Africa/Harare"},
	{"264", "NA", "0", 7, 10, "Africa/Windhoek"},
	{"265", "MW", "0", 7, 9, "Africa/Blantyre"},
	{"266", "LS", "", 8, 8, "Africa/Maseru"},
	{"267", "BW", "", 7, 8, "Africa/Gaborone"},
	{"268", "SZ", "", 8, 8, "Africa/Mbabane"},
	{"269", "KM", "", 7, 7, "Indian/Comoro"},
	{"27", "ZA", "0", 9, 9, "Africa/Johannesburg"},
	{"290", "SH", "", 4, 5, "Atlantic/St_Helena"},
	{"291", "ER", "0", 7, 7, "Africa/Asmara"},
	{"297", "AW", "", 7, 7, "America/Aruba"},
	{"298", "FO", "", 6, 6, "Atlantic/Faroe"},
	{"299", "GL", "", 6, 6, "America/Nuuk America/Danmarkshavn America/Scoresbysund America/Thule"},

	{"30", "GR", "", 10, 10, "Europe/Athens"},
	{"31", "NL", "0", 9, 9, "Europe/Amsterdam"},
	{"32", "BE", "0", 8, 9, "Europe/Brussels"},
	{"33", "FR", "0", 9, 9, "Europe/Paris"},
	{"34", "ES", "", 9, 9, "Europe/Madrid Atlantic/Canary Africa/Ceuta"},
	{"350", "GI", "", 8, 8, "Europe/Gibraltar"},
	{"351", "PT", "", 9, 9, "Europe/Lisbon Atlantic/Madeira Atlantic/Azores"},
	{"352", "LU", "", 4, 11, "Europe/Luxembourg"},
	{"353", "IE", "0", 7, 9, "Europe/Dublin"},
	{"354", "IS", "", 7, 9, "Atlantic/Reykjavik"},
	{"355", "AL", "0", 8, 9, "Europe/Tirane"},
	{"356", "MT", "", 8, 8, "Europe/Malta"},
	{"357", "CY", "", 8, 8, "Asia/Nicosia"},
	{"358", "FI", "0", 5, 12, "Europe/Helsinki"},
	{"358", "AX", "0", 5, 12, "Europe/Mariehamn"},
	{"359", "BG", "0", 8, 9, "Europe/Sofia"},
	{"36", "HU", "06", 8, 9, "Europe/Budapest"},
	{"370", "LT", "0", 8, 8, "Europe/Vilnius"},
	{"371", "LV", "", 8, 8, "Europe/Riga"},
	{"372", "EE", "", 7, 8, "Europe/Tallinn"},
	{"373", "MD", "0", 8, 8, "Europe/Chisinau"},
	{"374", "AM", "0", 8, 8, "Asia/Yerevan"},
	{"375", "BY", "80", 9, 9, "Europe/Minsk"},
	{"376", "AD", "", 6, 9, "Europe/Andorra"},
	{"377", "MC", "0", 8, 9, "Europe/Monaco"},
	{"378", "SM", "", 6, 10, "Europe/San_Marino"},
	{"380", "UA", "0", 9, 9, "Europe/Kyiv"},
	{"381", "RS", "0", 8, 12, "Europe/Belgrade"},
	{"382", "ME", "0", 8, 8, "Europe/Podgorica"},
	{"383", "XK", "0", 8, 8, "Europe/Belgrade"},
	{"385", "HR", "0", 8, 9, "Europe/Zagreb"},
	{"386", "SI", "0", 8, 8, "Europe/Ljubljana"},
	{"387", "BA", "0", 8, 9, "Europe/Sarajevo"},
	{"389", "MK", "0", 8, 8, "Europe/Skopje"},
	{"39", "IT", "", 6, 11, "Europe/Rome"},
	{"39", "VA", "", 6, 11, "Europe/Vatican"},

	{"40", "RO", "0", 9, 9, "Europe/Bucharest"},
	{"41", "CH", "0", 9, 9, "Europe/Zurich"},
	{"420", "CZ", "", 9, 9, "Europe/Prague"},
	{"421", "SK", "0", 9, 9, "Europe/Bratislava"},
	{"423", "LI", "", 7, 9, "Europe/Vaduz"},
	{"43", "AT", "0", 4, 13, "Europe/Vienna"},
	{"44", "GB", "0", 9, 10, "Europe/London"},
	{"44", "GG", "0", 9, 10, "Europe/Guernsey"},
	{"44", "JE", "0", 9, 10, "Europe/Jersey"},
	{"44", "IM", "0", 9, 10, "Europe/Isle_of_Man"},
	{"45", "DK", "", 8, 8, "Europe/Copenhagen"},
	{"46", "SE", "0", 6, 10, "Europe/Stockholm"},
	{"47", "NO", "", 8, 8, "Europe/Oslo"},
	{"47", "SJ", "", 8, 8, "Arctic/Longyearbyen"},
	{"48", "PL", "", 9, 9, "Europe/Warsaw"},
	{"49", "DE", "0", 6, 13, "Europe/Berlin"},

	{"500", "FK", "", 5, 5, "Atlantic/Stanley"},
	{"501", "BZ", "", 7, 7, "America/Belize"},
	{"502", "GT", "", 8, 8, "America/Guatemala"},
	{"503", "SV", "", 8, 8, "America/El_Salvador"},
	{"504", "HN", "", 8, 8, "America/Tegucigalpa"},
	{"505", "NI", "", 8, 8, "America/Managua"},
	{"506", "CR", "", 8, 8, "America/Costa_Rica"},
	{"507", "PA", "", 7, 8, "America/Panama"},
	{"508", "PM", "", 6, 6, "America/Miquelon"},
	{"509", "HT", "", 8, 8, "America/Port-au-Prince"},
	{"51", "PE", "0", 8, 9, "America/Lima"},
	{"52", "MX", "1", 10, 10, "America/Mexico_City America/Cancun America/Merida America/Monterrey America/Matamoros America/Chihuahua America/Ciudad_Juarez America/Ojinaga America/Mazatlan America/Bahia_Banderas America/Hermosillo America/Tijuana"},
	{"53", "CU", "0", 6, 8, "America/Havana"},
	{"54", "AR", "0", 10, 11, "America/Argentina/Buenos_Aires America/Argentina/Cordoba America/Argentina/Mendoza America/Argentina/Salta America/Argentina/Ushuaia"},
	{"55", "BR", "0", 10, 11, "America/Sao_Paulo America/Bahia America/Fortaleza America/Recife America/Belem America/Manaus America/Cuiaba America/Campo_Grande America/Porto_Velho America/Boa_Vista America/Rio_Branco America/Eirunepe America/Noronha"},
	{"56", "CL", "", 9, 9, "America/Santiago America/Punta_Arenas Pacific/Easter"},
	{"57", "CO", "", 10, 10, "America/Bogota"},
	{"58", "VE", "0", 10, 10, "America/Caracas"},
	{"590", "GP", "0", 9, 9, "America/Guadeloupe"},
	{"590", "BL", "0", 9, 9, "America/St_Barthelemy"},
	{"590", "MF", "0", 9, 9, "America/Marigot"},
	{"591", "BO", "0", 8, 8, "America/La_Paz"},
	{"592", "GY", "", 7, 7, "America/Guyana"},
	{"593", "EC", "0", 8, 9, "America/Guayaquil Pacific/Galapagos"},
	{"594", "GF", "0", 9, 9, "America/Cayenne"},
	{"595", "PY", "0", 6, 9, "America/Asuncion"},
	{"596", "MQ", "0", 9, 9, "America/Martinique"},
	{"597", "SR", "", 6, 7, "America/Paramaribo"},
	{"598", "UY", "0", 8, 8, "America/Montevideo"},
	{"599", "CW", "", 7, 8, "America/Curacao"},
	{"599", "BQ", "", 7, 8, "America/Kralendijk"},

	{"60", "MY", "0", 8, 10, "Asia/Kuala_Lumpur Asia/Kuching"},
	{"61", "AU", "0", 9, 9, "Australia/Sydney Australia/Melbourne Australia/Brisbane Australia/Adelaide Australia/Darwin Australia/Perth Australia/Hobart Australia/Broken_Hill Australia/Lord_Howe Australia/Eucla"},
	{"61", "CX", "0", 9, 9, "Indian/Christmas"},
	{"61", "CC", "0", 9, 9, "Indian/Cocos"},
	{"62", "ID", "0", 8, 12, "Asia/Jakarta Asia/Pontianak Asia/Makassar Asia/Jayapura"},
	{"63", "PH", "0", 8, 10, "Asia/Manila"},
	{"64", "NZ", "0", 8, 10, "Pacific/Auckland Pacific/Chatham"},
	{"65", "SG", "", 8, 8, "Asia/Singapore"},
	{"66", "TH", "0", 8, 9, "Asia/Bangkok"},
	{"670", "TL", "", 7, 8, "Asia/Dili"},
	{"672", "NF", "", 6, 6, "Pacific/Norfolk"},
	{"673", "BN", "", 7, 7, "Asia/Brunei"},
	{"674", "NR", "", 7, 7, "Pacific/Nauru"},
	{"675", "PG", "", 7, 8, "Pacific/Port_Moresby Pacific/Bougainville"},
	{"676", "TO", "", 5, 7, "Pacific/Tongatapu"},
	{"677", "SB", "", 5, 7, "Pacific/Guadalcanal"},
	{"678", "VU", "", 5, 7, "Pacific/Efate"},
	{"679", "FJ", "", 7, 7, "Pacific/Fiji"},
	{"680", "PW", "", 7, 7, "Pacific/Palau"},
	{"681", "WF", "", 6, 6, "Pacific/Wallis"},
	{"682", "CK", "", 5, 5, "Pacific/Rarotonga"},
	{"683", "NU", "", 4, 7, "Pacific/Niue"},
	{"685", "WS", "", 5, 7, "Pacific/Apia"},
	{"686", "KI", "", 5, 8, "Pacific/Tarawa Pacific/Kanton Pacific/Kiritimati"},
	{"687", "NC", "", 6, 6, "Pacific/Noumea"},
	{"688", "TV", "", 5, 6, "Pacific/Funafuti"},
	{"689", "PF", "", 6, 8, "Pacific/Tahiti Pacific/Marquesas Pacific/Gambier"},
	{"690", "TK", "", 4, 7, "Pacific/Fakaofo"},
	{"691", "FM", "", 7, 7, "Pacific/Pohnpei Pacific/Chuuk Pacific/Kosrae"},
	{"692", "MH", "", 7, 7, "Pacific/Majuro Pacific/Kwajalein"},

	{"7", "RU", "8", 10, 10, "Europe/Moscow Europe/Kaliningrad Europe/Samara Asia/Yekaterinburg Asia/Omsk Asia/Novosibirsk Asia/Krasnoyarsk Asia/Irkutsk Asia/Yakutsk Asia/Vladivostok Asia/Magadan Asia/Srednekolymsk Asia/Kamchatka"},
	{"7", "KZ", "8", 10, 10, "Asia/Almaty Asia/Qostanay Asia/Aqtobe Asia/Aqtau Asia/Atyrau Asia/Oral Asia/Qyzylorda"},

	{"81", "JP", "0", 9, 10, "Asia/Tokyo"},
	{"82", "KR", "0", 8, 10, "Asia/Seoul"},
	{"84", "VN", "0", 9, 10, "Asia/Ho_Chi_Minh"},
	{"850", "KP", "0", 8, 10, "Asia/Pyongyang"},
	{"852", "HK", "", 8, 8, "Asia/Hong_Kong"},
	{"853", "MO", "", 8, 8, "Asia/Macau"},
	{"855", "KH", "0", 8, 9, "Asia/Phnom_Penh"},
	{"856", "LA", "0", 8, 10, "Asia/Vientiane"},
	{"86", "CN", "0", 9, 11, "Asia/Shanghai Asia/Urumqi"},
	{"880", "BD", "0", 8, 10, "Asia/Dhaka"},
	{"886", "TW", "0", 8, 9, "Asia/Taipei"},

	{"90", "TR", "0", 10, 10, "Europe/Istanbul"},
	{"91", "IN", "0", 10, 10, "Asia/Kolkata"},
	{"92", "PK", "0", 9, 10, "Asia/Karachi"},
	{"93", "AF", "0", 9, 9, "Asia/Kabul"},
	{"94", "LK", "0", 9, 9, "Asia/Colombo"},
	{"95", "MM", "0", 7, 10, "Asia/Yangon"},
	{"960", "MV", "", 7, 7, "Indian/Maldives"},
	{"961", "LB", "0", 7, 8, "Asia/Beirut"},
	{"962", "JO", "0", 8, 9, "Asia/Amman"},
	{"963", "SY", "0", 8, 9, "Asia/Damascus"},
	{"964", "IQ", "0", 8, 10, "Asia/Baghdad"},
	{"965", "KW", "", 8, 8, "Asia/Kuwait"},
	{"966", "SA", "0", 8, 9, "Asia/Riyadh"},
	{"967", "YE", "0", 7, 9, "Asia/Aden"},
	{"968", "OM", "", 8, 8, "Asia/Muscat"},
	{"970", "PS", "0", 8, 9, "Asia/Gaza Asia/Hebron"},
	{"971", "AE", "0", 8, 9, "Asia/Dubai"},
	{"972", "IL", "0", 8, 9, "Asia/Jerusalem"},
	{"973", "BH", "", 8, 8, "Asia/Bahrain"},
	{"974", "QA", "", 7, 8, "Asia/Qatar"},
	{"975", "BT", "", 7, 8, "Asia/Thimphu"},
	{"976", "MN", "0", 8, 8, "Asia/Ulaanbaatar Asia/Hovd"},
	{"977", "NP", "0", 8, 10, "Asia/Kathmandu"},
	{"98", "IR", "0", 10, 10, "Asia/Tehran"},
	{"992", "TJ", "", 9, 9, "Asia/Dushanbe"},
	{"993", "TM", "8", 8, 8, "Asia/Ashgabat"},
	{"994", "AZ", "0", 9, 9, "Asia/Baku"},
	{"995", "GE", "0", 9, 9, "Asia/Tbilisi"},
	{"996", "KG", "0", 9, 9, "Asia/Bishkek"},
	{"998", "UZ", "", 9, 9, "Asia/Tashkent Asia/Samarkand"},
}

// globalCodes are calling codes of no country (international freephone,
// satellite and network services): they have no calling window.
var globalCodes = map[string]string{
	"800": "international freephone", "808": "international shared cost",
	"870": "Inmarsat satellite", "878": "universal personal telecommunications",
	"881": "global mobile satellite", "882": "international networks",
	"883": "international networks", "888": "humanitarian telecommunications",
	"979": "international premium rate", "991": "ITU trial service",
}

// regionPrefixes tell the regions sharing a calling code apart by the
// start of the national number (NANP uses its area-code table instead).
var regionPrefixes = []struct{ code, prefix, region string }{
	{"7", "6", "KZ"}, {"7", "7", "KZ"},
	{"44", "1481", "GG"}, {"44", "7781", "GG"}, {"44", "7839", "GG"}, {"44", "79111", "GG"}, {"44", "79117", "GG"},
	{"44", "1534", "JE"}, {"44", "7509", "JE"}, {"44", "7829", "JE"}, {"44", "7937", "JE"}, {"44", "7797", "JE"},
	{"44", "77003", "JE"}, {"44", "77007", "JE"}, {"44", "77008", "JE"},
	{"44", "1624", "IM"}, {"44", "74576", "IM"}, {"44", "7524", "IM"}, {"44", "7624", "IM"}, {"44", "7924", "IM"},
	{"47", "79", "SJ"},
	{"39", "06698", "VA"},
	{"61", "89164", "CX"}, {"61", "89162", "CC"},
	{"212", "5288", "EH"}, {"212", "5289", "EH"},
	{"262", "269", "YT"}, {"262", "639", "YT"},
	{"358", "18", "AX"},
	{"599", "3", "BQ"}, {"599", "4", "BQ"}, {"599", "7", "BQ"},
}

// intlPrefixes are the prefixes for dialling abroad besides 00, which is
// recognised from everywhere.
var intlPrefixes = map[string]string{
	"1": "011", "AU": "0011", "JP": "010", "RU": "810", "KZ": "810", "BY": "810",
}

// regionAliases are names in common use that ISO 3166 spells otherwise.
var regionAliases = map[string]string{"UK": "GB"}

var (
	byRegion = map[string]*country{}
	byCode   = map[string]*country{} // the main region of each code
)

func init() {
	for i := range countries {
		c := &countries[i]
		byRegion[c.region] = c
		if _, ok := byCode[c.code]; !ok {
			byCode[c.code] = c
		}
	}
}

// countryByRegion finds a region by its ISO code, in any case.
func countryByRegion(region string) (*country, bool) {
	r := strings.ToUpper(strings.TrimSpace(region))
	if alias, ok := regionAliases[r]; ok {
		r = alias
	}
	c, ok := byRegion[r]
	return c, ok
}

// KnownRegion reports whether region is a country of the numbering plan
// (ISO 3166 alpha-2 in any case; "UK" is taken for GB).
func KnownRegion(region string) bool {
	_, ok := countryByRegion(region)
	return ok
}

// splitCode splits international digits into calling code and the rest;
// the codes are prefix-free, so at most one of 1 to 3 digits matches.
func splitCode(digits string) (code, rest string, ok bool) {
	for n := 1; n <= 3 && n <= len(digits); n++ {
		if _, found := byCode[digits[:n]]; found {
			return digits[:n], digits[n:], true
		}
		if _, found := globalCodes[digits[:n]]; found {
			return digits[:n], digits[n:], true
		}
	}
	return "", digits, false
}

// regionOfNSN is the region of a national number under code.
func regionOfNSN(code, nsn string) *country {
	if code == "1" {
		if a, ok := nanpArea(nsn); ok {
			c, _ := countryByRegion(a.region)
			return c
		}
		return byCode[code]
	}
	for _, p := range regionPrefixes {
		if p.code == code && strings.HasPrefix(nsn, p.prefix) {
			c, _ := countryByRegion(p.region)
			return c
		}
	}
	return byCode[code]
}

// zoneNames splits a country's zone list.
func (c *country) zoneNames() []string {
	return strings.Fields(c.zones)
}

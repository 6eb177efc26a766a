package dialer

import (
	"slices"
	"strings"
)

// nanpRegion is what an area code of the North American Numbering Plan
// tells: the country or territory, and its time zones (several where the
// area straddles a zone line: every one of them, so a calling window holds
// in all).
type nanpRegion struct {
	region string
	zones  string
}

// nanpGroups map area codes in service (2025) to their region and zones,
// grouped by state, province or territory. An area code missing here
// (non-geographic 800, 500..., or one opened later) is taken as US or CA,
// with the zones of both.
var nanpGroups = []struct {
	region, zones, codes string
}{
	// United States, by state.
	{"US", "America/Chicago", "205 251 256 334 659 938"},                                      // AL
	{"US", "America/Anchorage America/Adak", "907"},                                           // AK
	{"US", "America/Phoenix", "480 520 602 623"},                                              // AZ
	{"US", "America/Phoenix America/Denver", "928"},                                           // AZ, Navajo Nation keeps DST
	{"US", "America/Chicago", "327 479 501 870"},                                              // AR
	{"US", "America/Los_Angeles", "209 213 279 310 323 341 350 408 415 424 442 510 530 559"},  // CA
	{"US", "America/Los_Angeles", "562 619 626 628 650 657 661 669 707 714 747 760 805 818"},  // CA
	{"US", "America/Los_Angeles", "820 831 840 858 909 916 925 949 951"},                      // CA
	{"US", "America/Denver", "303 719 720 970 983"},                                           // CO
	{"US", "America/New_York", "203 475 860 959"},                                             // CT
	{"US", "America/New_York", "302"},                                                         // DE
	{"US", "America/New_York", "202 771"},                                                     // DC
	{"US", "America/New_York", "239 305 321 352 386 407 561 645 656 689 727 754 772 786"},     // FL
	{"US", "America/New_York", "813 863 904 941 954"},                                         // FL
	{"US", "America/New_York America/Chicago", "448 850"},                                     // FL panhandle
	{"US", "America/New_York", "229 404 470 478 678 706 762 770 912"},                         // GA
	{"US", "Pacific/Honolulu", "808"},                                                         // HI
	{"US", "America/Boise America/Los_Angeles", "208 986"},                                    // ID
	{"US", "America/Chicago", "217 224 309 312 331 447 618 630 708 730 773 779 815 847 872"},  // IL
	{"US", "America/Indiana/Indianapolis", "260 317 463 574 765"},                             // IN
	{"US", "America/Chicago", "219"},                                                          // IN, northwest
	{"US", "America/Indiana/Indianapolis America/Chicago", "812 930"},                         // IN, south
	{"US", "America/Chicago", "319 515 563 641 712"},                                          // IA
	{"US", "America/Chicago", "316 913"},                                                      // KS
	{"US", "America/Chicago America/Denver", "620 785"},                                       // KS, west
	{"US", "America/New_York", "502 606 859"},                                                 // KY
	{"US", "America/Chicago America/New_York", "270 364"},                                     // KY, west
	{"US", "America/Chicago", "225 318 337 504 985"},                                          // LA
	{"US", "America/New_York", "207"},                                                         // ME
	{"US", "America/New_York", "227 240 301 410 443 667"},                                     // MD
	{"US", "America/New_York", "339 351 413 508 617 774 781 857 978"},                         // MA
	{"US", "America/Detroit", "231 248 269 313 517 586 616 679 734 810 947 989"},              // MI
	{"US", "America/Detroit America/Menominee", "906"},                                        // MI, upper peninsula
	{"US", "America/Chicago", "218 320 507 612 651 763 924 952"},                              // MN
	{"US", "America/Chicago", "228 601 662 769"},                                              // MS
	{"US", "America/Chicago", "314 417 557 573 636 660 816"},                                  // MO
	{"US", "America/Denver", "406"},                                                           // MT
	{"US", "America/Chicago", "402 531"},                                                      // NE
	{"US", "America/Chicago America/Denver", "308"},                                           // NE, west
	{"US", "America/Los_Angeles", "702 725 775"},                                              // NV
	{"US", "America/New_York", "603"},                                                         // NH
	{"US", "America/New_York", "201 551 609 640 732 848 856 862 908 973"},                     // NJ
	{"US", "America/Denver", "505 575"},                                                       // NM
	{"US", "America/New_York", "212 315 332 347 363 516 518 585 607 631 646 680 716 718"},     // NY
	{"US", "America/New_York", "838 845 914 917 929 934"},                                     // NY
	{"US", "America/New_York", "252 336 472 704 743 828 910 919 980 984"},                     // NC
	{"US", "America/Chicago America/Denver", "701"},                                           // ND
	{"US", "America/New_York", "216 220 234 283 326 330 380 419 436 440 513 567 614 740 937"}, // OH
	{"US", "America/Chicago", "405 539 572 580 918"},                                          // OK
	{"US", "America/Los_Angeles", "503 971"},                                                  // OR
	{"US", "America/Los_Angeles America/Boise", "458 541"},                                    // OR, east
	{"US", "America/New_York", "215 223 267 272 412 445 484 570 582 610 717 724 814 878"},     // PA
	{"US", "America/New_York", "401"},                                                         // RI
	{"US", "America/New_York", "803 839 843 854 864"},                                         // SC
	{"US", "America/Chicago America/Denver", "605"},                                           // SD
	{"US", "America/New_York", "865"},                                                         // TN, east
	{"US", "America/New_York America/Chicago", "423 931"},                                     // TN, both
	{"US", "America/Chicago", "615 629 731 901"},                                              // TN
	{"US", "America/Chicago", "210 214 254 281 325 346 361 409 430 469 512 682 713 726"},      // TX
	{"US", "America/Chicago", "737 806 817 830 832 903 936 940 945 956 972 979"},              // TX
	{"US", "America/Chicago America/Denver", "432"},                                           // TX, west
	{"US", "America/Denver", "915"},                                                           // TX, El Paso
	{"US", "America/Denver", "385 435 801"},                                                   // UT
	{"US", "America/New_York", "802"},                                                         // VT
	{"US", "America/New_York", "276 434 540 571 703 757 804 826 948"},                         // VA
	{"US", "America/Los_Angeles", "206 253 360 425 509 564"},                                  // WA
	{"US", "America/New_York", "304 681"},                                                     // WV
	{"US", "America/Chicago", "262 274 414 534 608 715 920"},                                  // WI
	{"US", "America/Denver", "307"},                                                           // WY

	// Canada, by province.
	{"CA", "America/Edmonton", "368 403 587 780 825"},                                                    // AB
	{"CA", "America/Vancouver", "604"},                                                                   // BC, Lower Mainland
	{"CA", "America/Vancouver America/Edmonton", "236 250 257 672 778"},                                  // BC, with its Mountain-time east
	{"CA", "America/Winnipeg", "204 431 584"},                                                            // MB
	{"CA", "America/Moncton", "428 506"},                                                                 // NB
	{"CA", "America/St_Johns America/Goose_Bay", "709 879"},                                              // NL
	{"CA", "America/Halifax", "782 902"},                                                                 // NS, PE
	{"CA", "America/Toronto", "226 249 289 343 365 382 416 437 519 548 613 647 683 705 742 753 905 942"}, // ON
	{"CA", "America/Toronto America/Winnipeg", "807"},                                                    // ON, northwest
	{"CA", "America/Toronto", "263 354 367 418 438 450 468 514 579 581 819 873"},                         // QC
	{"CA", "America/Regina", "306 474 639"},                                                              // SK
	{"CA", "America/Whitehorse America/Yellowknife America/Iqaluit America/Rankin_Inlet", "867"},         // YT, NT, NU

	// The Caribbean and Pacific members of the plan.
	{"AG", "America/Antigua", "268"},
	{"AI", "America/Anguilla", "264"},
	{"AS", "Pacific/Pago_Pago", "684"},
	{"BB", "America/Barbados", "246"},
	{"BM", "Atlantic/Bermuda", "441"},
	{"BS", "America/Nassau", "242"},
	{"DM", "America/Dominica", "767"},
	{"DO", "America/Santo_Domingo", "809 829 849"},
	{"GD", "America/Grenada", "473"},
	{"GU", "Pacific/Guam", "671"},
	{"JM", "America/Jamaica", "658 876"},
	{"KN", "America/St_Kitts", "869"},
	{"KY", "America/Cayman", "345"},
	{"LC", "America/St_Lucia", "758"},
	{"MP", "Pacific/Saipan", "670"},
	{"MS", "America/Montserrat", "664"},
	{"PR", "America/Puerto_Rico", "787 939"},
	{"SX", "America/Lower_Princes", "721"},
	{"TC", "America/Grand_Turk", "649"},
	{"TT", "America/Port_of_Spain", "868"},
	{"VC", "America/St_Vincent", "784"},
	{"VG", "America/Tortola", "284"},
	{"VI", "America/St_Thomas", "340"},
}

var nanpAreas = map[string]nanpRegion{}

func init() {
	for _, g := range nanpGroups {
		for _, code := range strings.Fields(g.codes) {
			nanpAreas[code] = nanpRegion{region: g.region, zones: g.zones}
		}
	}
}

// nanpArea looks up a ten-digit NANP number's area code.
func nanpArea(nsn string) (nanpRegion, bool) {
	if len(nsn) < 3 {
		return nanpRegion{}, false
	}
	a, ok := nanpAreas[nsn[:3]]
	return a, ok
}

// nanpUnknownZones are the zones of a NANP number whose area code is not
// in the table: the US's and Canada's, so that every possible callee is
// inside the window.
func nanpUnknownZones() []string {
	us, _ := countryByRegion("US")
	ca, _ := countryByRegion("CA")
	out := us.zoneNames()
	for _, z := range ca.zoneNames() {
		if !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	return out
}

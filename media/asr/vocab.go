package asr

import (
	"fmt"
	"strings"
)

// Slot types a Hints value may name; the same strings as activities'
// SlotNumber, SlotDigits, SlotDate, SlotTime and SlotMoney (this package
// does not import activities). Other slot types add no vocabulary.
const (
	SlotNumber = "number"
	SlotDigits = "digits"
	SlotDate   = "date"
	SlotTime   = "time"
	SlotMoney  = "money"
)

var (
	digitWords = strings.Fields("zero one two three four five six seven eight nine")
	teenWords  = strings.Fields("ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen")
	tensWords  = strings.Fields("twenty thirty forty fifty sixty seventy eighty ninety")
	ordinals   = strings.Fields(`first second third fourth fifth sixth seventh eighth ninth tenth
		eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth
		nineteenth twentieth thirtieth`)
	months   = strings.Fields("january february march april may june july august september october november december")
	weekdays = strings.Fields("monday tuesday wednesday thursday friday saturday sunday")
)

// carrierPhrases are the ways callers wrap what they want: enough context
// for the bigrams and trigrams of free phrasing around the hints.
var carrierPhrases = []string{
	"i want to", "i would like to", "i'd like to", "i need to", "i need", "i want",
	"i'd like", "i have a question about my", "i have a problem with my",
	"can i", "can you", "could you", "can i talk to", "can i speak to",
	"i want to talk to", "i want to speak to", "let me talk to", "let me speak to",
	"talk to someone", "speak to a person", "a real person", "please",
	"my account number is", "the account number is", "it's account", "account number",
	"my number is", "it's", "yes", "no", "yes please", "no thank you", "thank you",
	"that's right", "that's it", "i don't know", "i'm calling about my", "i'm calling to",
	"about my bill", "for my account", "on my account", "what is my", "how much is my",
	"when is my", "how do i", "i think", "it is", "is not working", "doesn't work",
	"i'd like to check my", "hi", "hello", "hello i want to",
}

// carrierWords are further common words of callers' requests, heard
// without context.
var carrierWords = strings.Fields(`a an the i i'm i'd i've me my mine you your we our it it's its is
	are was were be been am do does did don't doesn't didn't can can't could would will won't
	should have has had get got want need like to for of on in at by with from about and or but
	not no yes yeah okay ok please thanks thank hi hello this that these those there here what
	which who when where why how much many some any all just also again still already now today
	account number bill bills billing invoice payment pay paid charge charged charges balance due
	card credit debit refund money price cost plan contract order service services support help
	problem issue question working broken internet phone line connection router password login
	agent person someone somebody human representative operator customer sales buy purchase
	upgrade cancel change update check make book schedule appointment call calling back speak
	talk tell know think said say new old my self right wrong sure last next first`)

// fillerWords are everyday words outside any flow's themes. A menu's
// model holds them beside its phrases so that speech which is no option
// decodes as these words instead of being forced onto an option.
var fillerWords = strings.Fields(`hello hi hey good morning afternoon evening night bye goodbye
	thanks thank you sorry excuse pardon what when where why how who which whose is are was
	were be been being am do does did done doing have has had having go goes going gone went
	come comes coming came get gets getting got make makes made take takes took see saw seen
	look looking know knew known think thought say said tell told ask asked give gave find
	found feel felt try tried leave left put keep kept let begin began seem help show hear
	heard play run move live believe hold bring happen write sit stand lose pay meet include
	continue set learn lead understand watch follow stop create speak read spend grow open
	walk win offer remember love consider appear wait serve die send expect build stay fall
	cut reach kill remain weather rain sun sunny cold hot warm snow wind cloud today tonight
	tomorrow yesterday week weekend month year time day days hour minute second moment
	people man woman child children boy girl friend family mother father brother sister
	house home room door car bus train road street city town country world water food
	pizza coffee tea beer bread dinner lunch breakfast restaurant hotel hospital doctor
	school work job office computer music movie game book dog cat bird fish tree garden
	animal elephant banana apple orange green red blue black white big small long short
	high low little great nice bad best better old young early late hard easy real sure
	fine okay ok yes yeah no nope not never maybe perhaps really very too quite just only
	also so then than there here now well right wrong again always often sometimes anything
	something nothing everything anybody somebody nobody everyone one two three four five
	six seven eight nine ten hundred thousand first last next other another same different
	a an the this that these those my your his her its our their me him them us i you he
	she it we they mine yours to of in on at by for with about from up down out over under
	into through after before between again and or but if because while until name number
	john mary smith quick brown fox lazy jump ah oh um uh hmm wow huh mind repeat second
	hang moment minute listen anyone there care matter`)

// slotPhrases returns the vocabulary and short example sentences of a
// slot type ("" for an unknown type).
func slotPhrases(slot string) (words []string, sentences []string) {
	switch strings.ToLower(slot) {
	case SlotDigits:
		words = append(append(words, digitWords...), "oh", "double", "triple")
		for i, a := range digitWords {
			for j, b := range digitWords {
				sentences = append(sentences, a+" "+b)
				if (i*7+j*3)%10 == 0 {
					c, d := digitWords[(i+j)%10], digitWords[(i*3+1)%10]
					sentences = append(sentences,
						fmt.Sprintf("my account number is %s %s %s %s", a, b, c, d),
						fmt.Sprintf("it's account %s %s %s %s", b, c, d, a),
						fmt.Sprintf("account %s %s %s %s", c, a, d, b))
				}
			}
		}
		sentences = append(sentences, "double one", "double two", "oh four", "four oh")
	case SlotNumber:
		words = append(append(append(words, digitWords...), teenWords...), tensWords...)
		words = append(words, "hundred", "thousand", "million", "and", "point", "half")
		for _, t := range tensWords {
			sentences = append(sentences, t, t+" "+digitWords[5], "one hundred and "+t)
		}
		sentences = append(sentences, teenWords...)
	case SlotDate:
		words = append(append(append(words, months...), weekdays...), ordinals...)
		words = append(words, "today", "tomorrow", "yesterday", "next", "this", "week",
			"on", "the", "of", "day", "after", "twenty", "thirty", "month")
		for i, m := range months {
			sentences = append(sentences, m+" "+ordinals[i%len(ordinals)], "the "+ordinals[(i+3)%len(ordinals)]+" of "+m)
		}
		for _, d := range weekdays {
			sentences = append(sentences, "on "+d, "next "+d, "this "+d)
		}
		sentences = append(sentences, "today", "tomorrow", "the day after tomorrow", "next week", "twenty first", "thirty first")
	case SlotTime:
		words = append(append(words, digitWords[1:]...), teenWords[:3]...)
		words = append(words, "am", "pm", "o'clock", "half", "past", "quarter", "to",
			"noon", "midnight", "morning", "afternoon", "evening", "at", "in", "the", "thirty", "fifteen", "forty", "five")
		for _, h := range append(digitWords[1:], teenWords[:3]...) {
			sentences = append(sentences, "at "+h+" am", "at "+h+" pm", h+" o'clock", "half past "+h, "quarter to "+h, h+" thirty")
		}
		sentences = append(sentences, "in the morning", "in the afternoon", "in the evening", "at noon")
	case SlotMoney:
		words = append(append(append(words, digitWords...), teenWords...), tensWords...)
		words = append(words, "hundred", "thousand", "and", "point", "dollars", "dollar",
			"cents", "cent", "euros", "euro", "pounds", "pound", "bucks")
		for i, t := range tensWords {
			cur := []string{"dollars", "euros", "pounds"}[i%3]
			sentences = append(sentences, t+" "+cur, t+" "+digitWords[(i+2)%10]+" "+cur,
				digitWords[i+1]+" "+cur+" and "+t+" cents", "one hundred "+cur)
		}
	}
	return words, sentences
}

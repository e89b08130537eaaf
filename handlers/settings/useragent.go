package settings

import "strings"

// describeUserAgent turns a User-Agent header into a few words a person
// recognises their device by ("Chrome on Linux", "Safari on iPhone"). It
// knows the browsers and systems most people use and says "Unknown
// browser" for the rest; the page shows the whole header beside it.
// Browsers name others they resemble in their header ("Chrome" says
// "Safari", "Edge" says "Chrome"), so the more specific tokens come first.
func describeUserAgent(ua string) string {
	name := browserOf(ua)
	if system := systemOf(ua); system != "" {
		return name + " on " + system
	}
	return name
}

// uaToken is a token of the header and what it means.
type uaToken struct{ token, name string }

var browsers = []uaToken{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"Vivaldi/", "Vivaldi"},
	{"YaBrowser/", "Yandex Browser"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"HeadlessChrome/", "Headless Chrome"},
	{"CriOS/", "Chrome"}, {"Chromium/", "Chromium"}, {"Chrome/", "Chrome"},
	{"Version/", "Safari"}, // Safari proper says Version/… Safari/…
	{"curl/", "curl"}, {"Wget/", "Wget"}, {"Go-http-client/", "Go HTTP client"},
}

var systems = []uaToken{
	{"Windows", "Windows"},
	{"iPhone", "iPhone"}, {"iPad", "iPad"}, {"iPod", "iPod"},
	{"Android", "Android"},
	{"CrOS", "ChromeOS"},
	{"Macintosh", "macOS"}, {"Mac OS X", "macOS"},
	{"Linux", "Linux"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
}

func browserOf(ua string) string {
	for _, b := range browsers {
		if strings.Contains(ua, b.token) && (b.name != "Safari" || strings.Contains(ua, "Safari/")) {
			return b.name
		}
	}
	return "Unknown browser"
}

func systemOf(ua string) string {
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			return s.name
		}
	}
	return ""
}

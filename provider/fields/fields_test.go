package fields_test

import (
	"errors"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/fields"
)

func TestErrorsKeepOneProblemAFieldAndFormatForEachSurface(t *testing.T) {
	t.Parallel()
	var e fields.Errors
	if e.Err() != nil {
		t.Fatal("no problem is an error")
	}
	e.Add("name", "at most %d characters", 80)
	e.AddCode("invalid_redirect_uri", "redirect_uris", "%q must not have a fragment", "https://a/#x")
	e.Add("name", "a second problem of the same field")
	if len(e) != 2 {
		t.Fatalf("%d problems, want 2: %v", len(e), e)
	}
	if got := e.Error(); got != "name: at most 80 characters\nredirect_uris: \"https://a/#x\" must not have a fragment" {
		t.Errorf("Error() = %q", got)
	}
	if got := e[0].Sentence(); got != "At most 80 characters." {
		t.Errorf("Sentence() = %q", got)
	}
	var first fields.Error
	if !errors.As(e.Err(), &first) || first.Field != "name" {
		t.Errorf("errors.As found %+v", first)
	}
	if (fields.Error{Message: "the form expired"}).Error() != "the form expired" {
		t.Error("a problem of the whole form is just its message")
	}
}

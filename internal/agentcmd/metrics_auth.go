package agentcmd

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// metricsAuthCacheTTL is how long a token's verdict is reused, so that a
// scraper costs the API server one TokenReview and one SubjectAccessReview
// per minute rather than per scrape.
const metricsAuthCacheTTL = time.Minute

// metricsAuthFilter is a metricsserver.FilterProvider that does what
// controller-runtime's filters.WithAuthenticationAndAuthorization does,
// with client-go alone: the API server authenticates the request's bearer
// token (TokenReview; none or invalid: 401) and authorizes get on its
// non-resource URL (SubjectAccessReview; denied: 403). controller-runtime's
// own filter links k8s.io/apiserver, whose feature gates then replace
// client-go's and change how the agent's informers list.
func metricsAuthFilter(cfg *rest.Config, httpClient *http.Client) (metricsserver.Filter, error) {
	cs, err := kubernetes.NewForConfigAndClient(cfg, httpClient)
	if err != nil {
		return nil, fmt.Errorf("metrics authentication: %w", err)
	}
	type verdict struct {
		status  int
		expires time.Time
	}
	var mu sync.Mutex
	cache := map[[32]byte]verdict{}
	return func(log logr.Logger, next http.Handler) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			token = strings.TrimSpace(token)
			if !ok || token == "" {
				http.Error(w, "Unauthorized", http.StatusUnauthorized)
				return
			}
			key := sha256.Sum256([]byte(r.Method + " " + r.URL.Path + " " + token))
			mu.Lock()
			v, hit := cache[key]
			mu.Unlock()
			if !hit || time.Now().After(v.expires) {
				v = verdict{status: check(r, cs, token, log), expires: time.Now().Add(metricsAuthCacheTTL)}
				if v.status != http.StatusInternalServerError {
					mu.Lock()
					for k, old := range cache {
						if time.Now().After(old.expires) {
							delete(cache, k)
						}
					}
					cache[key] = v
					mu.Unlock()
				}
			}
			if v.status != http.StatusOK {
				http.Error(w, http.StatusText(v.status), v.status)
				return
			}
			next.ServeHTTP(w, r)
		}), nil
	}, nil
}

// check asks the API server about token and returns 200, 401, 403, or 500
// when it could not ask.
func check(r *http.Request, cs kubernetes.Interface, token string, log logr.Logger) int {
	ctx := r.Context()
	tr, err := cs.AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}, metav1.CreateOptions{})
	if err != nil {
		log.Error(err, "TokenReview of a metrics request failed")
		return http.StatusInternalServerError
	}
	if !tr.Status.Authenticated {
		return http.StatusUnauthorized
	}
	u := tr.Status.User
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	verb := strings.ToLower(r.Method)
	if verb == "head" {
		verb = "get"
	}
	sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{
			User: u.Username, Groups: u.Groups, UID: u.UID, Extra: extra,
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Path: r.URL.Path, Verb: verb},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		log.Error(err, "SubjectAccessReview of a metrics request failed")
		return http.StatusInternalServerError
	}
	if !sar.Status.Allowed {
		return http.StatusForbidden
	}
	return http.StatusOK
}

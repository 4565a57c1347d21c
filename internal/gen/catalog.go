package gen

import (
	"math"
	"strconv"
	"strings"
)

// shopURL is the storefront every page URL points into.
const shopURL = "https://shop.example.com"

// Currencies: a visitor shops in one of them, chosen by its locale.
const (
	curEUR = iota
	curUSD
	curGBP
	numCurrencies
)

var currencyCodes = [numCurrencies]string{"EUR", "USD", "GBP"}

// rates converts a EUR list price into each currency's list price.
var rates = [numCurrencies]float64{1, 1.08, 0.86}

var (
	apparelSizes = []string{"XS", "S", "M", "L", "XL"}
	shoeSizes    = []string{"37", "38", "39", "40", "41", "42", "43", "44", "45"}
)

// categorySpec is the hand-written part of the catalog.
type categorySpec struct {
	path     string
	sizes    []string // variants that get SKUs; nil: products have no SKUs
	minPrice float64  // EUR
	maxPrice float64
	names    []string
}

var categorySpecs = []categorySpec{
	{"/Womens/Dresses", apparelSizes, 29, 189, []string{"Wrap Dress", "Linen Shirt Dress", "Pleated Midi Dress", "Robe d'été fleurie", "Sommerkleid mit Blümchen", "Knitted Sweater Dress"}},
	{"/Womens/Shoes", shoeSizes, 39, 249, []string{"Leather Ankle Boots", "Canvas Sneakers", "Ballet Flats", "Block Heel Sandals", "Escarpins en daim"}},
	{"/Womens/Tops", apparelSizes, 14, 89, []string{"Silk Blouse", "Ribbed Tank Top", "Crème Cashmere Pullover", "Oversized Tee", "Bluzka z lnu"}},
	{"/Mens/Shirts", apparelSizes, 19, 99, []string{"Männer-Laufshirt", "Oxford Shirt", "Flannel Overshirt", "Merino Polo", "Chemise en lin"}},
	{"/Mens/Shoes", shoeSizes, 49, 229, []string{"Men's Running Shoes", "Leather Derby Shoes", "Trail Runner GTX", "Suede Chelsea Boots", "Zapatillas de montaña"}},
	{"/Mens/Jackets", apparelSizes, 79, 399, []string{"Down Jacket", "Rain Shell", "Doudoune légère", "Wool Overcoat", "Übergangsjacke"}},
	{"/Sports/Running", apparelSizes, 9, 79, []string{"Laufsocken 3er-Pack", "Running Belt", "Reflective Vest", "Thermal Tights", "Løpelue"}},
	{"/Accessories/Bags", nil, 25, 349, []string{"Leather Tote", "Sac à dos urbain", "Canvas Weekender", "Crossbody Bag", "Laptop Sleeve 14\""}},
	{"/Home/Kitchen", nil, 6, 159, []string{"Cast Iron Skillet", "Espresso Cups (Set of 4)", "Smørrebrød Board", "Chef's Knife 20 cm", "Teekanne aus Gusseisen"}},
	{"/Home/Decor", nil, 12, 129, []string{"Ceramic Vase", "Brass Candle Holder", "Linen Cushion Cover", "Wool Throw", "Cadre photo en chêne"}},
	{"/Beauty/Skincare", nil, 8, 69, []string{"Hydrating Day Cream", "Face Serum 30 ml", "SPF 50 Sun Fluid", "Lip Balm Trio", "Gift Card 🎁"}},
}

var colors = []string{"Black", "Navy", "Olive", "Sand", "Burgundy", "Grey", "White", "Ivory"}

// category is a catalog category with its precomputed, read-only lists.
type category struct {
	path        string
	categories  []string // {path}
	categoryIDs []string // {id}
	url         string
	first, end  int // products[first:end]
}

// product is one catalog product.
type product struct {
	id    string
	name  string
	cat   int
	sizes []string
	skus  []string // id + "-" + size, parallel to sizes
	price [numCurrencies]float64
	url   string
}

var (
	categories []category
	products   []product
)

func init() {
	for ci, spec := range categorySpecs {
		c := category{
			path:        spec.path,
			categories:  []string{spec.path},
			categoryIDs: []string{strconv.Itoa(1001 + ci*7)},
			url:         shopURL + "/collections" + strings.ToLower(spec.path),
			first:       len(products),
		}
		for ni, name := range spec.names {
			for k := 0; k < 3; k++ {
				h := mix64(uint64(ci)<<32 | uint64(ni)<<8 | uint64(k))
				p := product{
					id:    strconv.Itoa(100003 + 7919*len(products)%899981),
					name:  name + ", " + colors[(ni+3*k+ci)%len(colors)],
					cat:   ci,
					sizes: spec.sizes,
				}
				for _, s := range spec.sizes {
					p.skus = append(p.skus, p.id+"-"+s)
				}
				eur := spec.minPrice + (spec.maxPrice-spec.minPrice)*unitFloat(h)
				for cur := range p.price {
					p.price[cur] = charmPrice(eur*rates[cur], h>>61)
				}
				p.url = shopURL + "/products/" + p.id
				products = append(products, p)
			}
		}
		c.end = len(products)
		categories = append(categories, c)
	}
}

// charmPrice rounds a price the way shops do: mostly 24.99, sometimes
// 24.95, 24.50 or 25.00.
func charmPrice(x float64, pick uint64) float64 {
	whole := math.Ceil(x)
	cents := [...]float64{0, 0.05, 0.5, 0.01, 0.01, 0.01, 0.01, 0.01}[pick%8]
	return math.Round((whole-cents)*100) / 100
}

// searchTerm is a search query with its read-only lists.
type searchTerm struct {
	terms []string // {query}
	url   string
	cat   int // the category whose products the search mostly finds
}

var searchTerms []searchTerm

func init() {
	for _, s := range []struct {
		q   string
		cat string
	}{
		{"black shoes", "/Womens/Shoes"}, {"summer dress", "/Womens/Dresses"},
		{"laufshirt männer", "/Mens/Shirts"}, {"robe d'été", "/Womens/Dresses"},
		{"rain jacket", "/Mens/Jackets"}, {"running shoes", "/Mens/Shoes"},
		{"cast iron", "/Home/Kitchen"}, {"cashmere", "/Womens/Tops"},
		{"sac à main", "/Accessories/Bags"}, {"gift card", "/Beauty/Skincare"},
		{"linen", "/Mens/Shirts"}, {"wool socks", "/Sports/Running"},
		{"boots size 42", "/Mens/Shoes"}, {"vase", "/Home/Decor"},
		{"spf", "/Beauty/Skincare"}, {"übergangsjacke", "/Mens/Jackets"},
	} {
		ci := 0
		for i, c := range categorySpecs {
			if c.path == s.cat {
				ci = i
			}
		}
		searchTerms = append(searchTerms, searchTerm{
			terms: []string{s.q},
			url:   shopURL + "/search?q=" + queryEscape(s.q),
			cat:   ci,
		})
	}
}

// queryEscape escapes a search query as a browser does in a form (spaces as
// '+', everything else outside [A-Za-z0-9-_.~] percent-encoded).
func queryEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
			b.WriteByte('+')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// Placements per page type, read-only.
var (
	placementsFront    = []string{"frontpage-nosto-1", "frontpage-nosto-2"}
	placementsCategory = []string{"categorypage-nosto-1"}
	placementsSearch   = []string{"searchpage-nosto-1"}
	placementsProduct  = []string{"productpage-nosto-1", "productpage-nosto-2"}
	placementsCart     = []string{"cartpage-nosto-1"}
	placementsThankYou = []string{"thankyou-nosto-1"}
	placementsNotFound = []string{"notfound-nosto-1"}
)

// Fixed page URLs.
var (
	urlFront    = shopURL + "/"
	urlCart     = shopURL + "/cart"
	urlThankYou = shopURL + "/checkout/thank-you"
	urlNotFound = shopURL + "/black-friday-2019"
	urlOthers   = []string{shopURL + "/pages/about-us", shopURL + "/pages/shipping", shopURL + "/account", shopURL + "/pages/size-guide"}
)

// Shopper profiles.
var (
	firstNames = []string{"Anna", "Jürgen", "Zoë", "Liam", "Åsa", "José", "Mia", "Łukasz", "Chloé", "Noah", "Sofía", "Oliver", "Emma", "Mikko", "Søren", "Aisha"}
	lastNames  = []string{"Schmidt", "Müller", "García", "Smith", "Nowak", "Johansson", "Dubois", "O'Brien", "Rossi", "Virtanen", "Nielsen", "Khan", "Brown", "Fernández", "Lefèvre", "Jones"}
	providers  = []string{"klarna", "adyen", "stripe", "paypal", "shopify_payments"}
	statuses   = []string{"paid", "paid", "paid", "authorized", "pending"}
)

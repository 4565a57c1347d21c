package reducer

func validateAction(a *Action) error {
	if a == nil {
		return invalid("action", "is required")
	}
	if err := validateActionType(a); err != nil {
		return err
	}
	if err := validateOptional("action.product_id", a.ProductID, false); err != nil {
		return err
	}
	for _, f := range [...]struct {
		name string
		val  *string
	}{
		{"action.sku_id", a.SkuID},
		{"action.page_url", a.PageURL},
	} {
		if err := validateOptional(f.name, f.val, false); err != nil {
			return err
		}
	}
	for _, f := range [...]struct {
		name string
		val  []string
	}{
		{"action.categories", a.Categories},
		{"action.category_ids", a.CategoryIDs},
		{"action.search_terms", a.SearchTerms},
		{"action.placements", a.Placements},
	} {
		if err := validateStrings(f.name, f.val, false); err != nil {
			return err
		}
	}
	if a.Order != nil {
		return validateOrder(a.Order)
	}
	return nil
}

// validateActionType checks the fields the action's type requires.
func validateActionType(a *Action) error {
	switch a.Type {
	case ActionViewFrontPage, ActionViewCart, ActionViewNotFound, ActionViewOther:
		return nil
	case ActionViewProduct:
		return validateOptional("action.product_id", a.ProductID, true)
	case ActionViewCategory:
		return validateStrings("action.categories", a.Categories, true)
	case ActionViewSearch:
		return validateStrings("action.search_terms", a.SearchTerms, true)
	case ActionAddOrder:
		if a.Order == nil {
			return invalid("action.order", "is required for add_order")
		}
		return nil
	}
	return invalid("action.type", "unknown action type")
}

func validateOptional(field string, s *string, required bool) error {
	if s == nil {
		if required {
			return invalid(field, "is required")
		}
		return nil
	}
	return validateString(field, *s, required)
}

func validateOrder(o *Order) error {
	if err := validateString("action.order.order_number", o.OrderNumber, true); err != nil {
		return err
	}
	if err := validateItems("action.order.items", o.Items); err != nil {
		return err
	}
	for _, f := range [...]struct {
		name string
		val  *string
	}{
		{"action.order.external_order_ref", o.ExternalOrderRef},
		{"action.order.payment_provider", o.PaymentProvider},
		{"action.order.order_status", o.OrderStatus},
	} {
		if err := validateOptional(f.name, f.val, false); err != nil {
			return err
		}
	}
	return nil
}

//! Accounts the simulator holds: customers the create call made and accounts added through
//! `POST /_sim/accounts` (site users, inactive or email-hidden accounts).

use serde::Serialize;

/// An account as the simulator stores it: a JSM customer made by the create call, or one
/// added through `POST /_sim/accounts`. `GET /_sim/customers` lists it with its email under
/// both `email` (as `POST /_sim/accounts` takes it) and `emailAddress` (as JSM names it).
#[derive(Clone, Debug, PartialEq)]
pub struct SimCustomer {
    pub account_id: String,
    pub email_address: String,
    pub display_name: String,
    /// Published fact (swagger v3 `User.active`): user search shows active users only.
    pub active: bool,
    /// Published fact (swagger v3 `User.accountType`): `customer` (portal-only, what the
    /// create makes), `atlassian` (a licensed or site user) or `app`.
    pub account_type: String,
    /// Published fact (swagger v3 `User.emailAddress`): null when the user's profile
    /// visibility hides it.
    pub email_visible: bool,
    /// Service desks (ids or keys as sent) the customer was added to.
    pub service_desks: Vec<String>,
    /// Organizations the customer was added to.
    pub organizations: Vec<String>,
}

impl Serialize for SimCustomer {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("SimCustomer", 9)?;
        s.serialize_field("accountId", &self.account_id)?;
        s.serialize_field("email", &self.email_address)?;
        s.serialize_field("emailAddress", &self.email_address)?;
        s.serialize_field("displayName", &self.display_name)?;
        s.serialize_field("active", &self.active)?;
        s.serialize_field("accountType", &self.account_type)?;
        s.serialize_field("emailVisible", &self.email_visible)?;
        s.serialize_field("serviceDesks", &self.service_desks)?;
        s.serialize_field("organizations", &self.organizations)?;
        s.end()
    }
}

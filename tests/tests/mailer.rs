//! Sending through the SES adapter into the SES emulator.

use relance::aws::SesMailer;
use relance::ids::Email;
use relance::mail::{MailHeader, MailKind, OutgoingMail, Subject};
use relance::ports::Mailer;
use relance_tests::mailbox::sent_mails;
use relance_tests::stack::LocalStack;
use relance_tests::unique;

#[tokio::test]
async fn a_marketing_mail_is_stored_with_its_one_click_unsubscribe_headers() {
    let stack = LocalStack::connect().await.unwrap();
    let mailer = SesMailer::new(
        stack.sesv2().unwrap(),
        stack.var("RELANCE_SENDER").unwrap(),
        stack.var("RELANCE_CONFIGURATION_SET").unwrap(),
    );
    let to = Email::parse(format!("{}@example.fr", unique("anne"))).unwrap();
    let unsubscribe = "https://relance.test/unsubscribe?t=signed-token";
    let mail = OutgoingMail {
        to: to.clone(),
        subject: Subject::parse("Votre panier vous attend — 2 articles").unwrap(),
        html: "<p>Bonjour Anne,</p>".to_owned(),
        text: "Bonjour Anne,".to_owned(),
        headers: MailHeader::one_click_unsubscribe(unsubscribe).unwrap().to_vec(),
        kind: MailKind::Marketing,
        tags: None,
        from: None,
        reply_to: None,
    };

    let sent = mailer.send(&mail).await.unwrap();

    let stored = sent_mails(stack.var("RELANCE_SES_EMULATOR_URL").unwrap()).await.unwrap();
    let stored = stored.iter().find(|m| m.message_id == sent.message_id).expect("mail in the emulator");
    assert_eq!(stored.destination.to, [to.as_str()]);
    assert_eq!(stored.from, stack.var("RELANCE_SENDER").unwrap());
    assert_eq!(stored.subject, "Votre panier vous attend — 2 articles");
    assert_eq!(stored.body.html.as_deref(), Some("<p>Bonjour Anne,</p>"));
    assert_eq!(stored.body.text.as_deref(), Some("Bonjour Anne,"));
    assert_eq!(stored.header("List-Unsubscribe"), Some(format!("<{unsubscribe}>").as_str()));
    assert_eq!(stored.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
}

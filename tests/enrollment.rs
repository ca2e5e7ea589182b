//! Reading enrollments: students and courses, many-to-many, both ways.

mod common;

use common::{Backend, TestApp, gid};
use serde_json::json;

async fn students_list_their_courses_with_the_enrollment_time(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(
            r#"{ students { nodes { id databaseId name
                courses { totalCount edges { enrolledAt node { name } } }
            } } }"#,
        )
        .await;
    let students = data["students"]["nodes"].as_array().unwrap();
    assert_eq!(students[0]["id"], gid("Student", 1));
    assert_eq!(students[0]["name"], "Sam");
    assert_eq!(
        students[0]["courses"],
        json!({"totalCount": 2, "edges": [
            {"enrolledAt": "2026-01-02T06:00:00Z", "node": {"name": "Algebra"}},
            {"enrolledAt": "2026-01-02T07:00:00Z", "node": {"name": "Biology"}}
        ]})
    );
    assert_eq!(students[1]["courses"]["totalCount"], 1);
    assert_eq!(
        students[2]["courses"],
        json!({"totalCount": 0, "edges": []})
    );
}

async fn courses_list_their_students_and_back_again(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(
            r#"{ course(id: "Q291cnNlOjE=") { id databaseId name
                students { totalCount edges { enrolledAt node { name courses { nodes { name } } } } }
            } }"#,
        )
        .await;
    let course = &data["course"];
    assert_eq!(course["name"], "Algebra");
    assert_eq!(course["databaseId"], 1);
    assert_eq!(
        course["students"],
        json!({"totalCount": 2, "edges": [
            {"enrolledAt": "2026-01-02T06:00:00Z", "node": {"name": "Sam",
                "courses": {"nodes": [{"name": "Algebra"}, {"name": "Biology"}]}}},
            {"enrolledAt": "2026-01-02T08:00:00Z", "node": {"name": "Tia",
                "courses": {"nodes": [{"name": "Algebra"}]}}}
        ]})
    );
}

async fn nested_many_to_many_pages_are_cut_per_parent(backend: Backend) {
    let app = TestApp::with_fixture(backend).await;
    let data = app
        .data(
            r#"{ courses { nodes { name students(first: 1) {
                totalCount pageInfo { hasNextPage } nodes { name } } } } }"#,
        )
        .await;
    assert_eq!(
        data["courses"]["nodes"],
        json!([
            {"name": "Algebra", "students": {"totalCount": 2, "pageInfo": {"hasNextPage": true}, "nodes": [{"name": "Sam"}]}},
            {"name": "Biology", "students": {"totalCount": 1, "pageInfo": {"hasNextPage": false}, "nodes": [{"name": "Sam"}]}},
            {"name": "Chemistry", "students": {"totalCount": 0, "pageInfo": {"hasNextPage": false}, "nodes": []}}
        ])
    );
}

on_every_backend!(
    students_list_their_courses_with_the_enrollment_time,
    courses_list_their_students_and_back_again,
    nested_many_to_many_pages_are_cut_per_parent,
);
